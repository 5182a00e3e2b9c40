"""Corpus readers (bertkit.data.corpus: file discovery, plain and WikiExtractor documents, .gz) and task-file
readers (bertkit.data.tasks: TSV, CoNLL, SQuAD): formats, verbatim fields, one-line errors naming file and line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bertkit.data.corpus import find_files, iter_documents, read_documents, sized_documents
from bertkit.data.tasks.conll import read_conll
from bertkit.data.tasks.squad import Answer, read_squad
from bertkit.data.tasks.tsv import read_tsv
from bertkit.utils.errors import BertkitError

WIKI = (
    '<doc id="1" url="http://x?curid=1" title="Alpha">\n'
    "Alpha\n"
    "\n"
    "Alpha is a letter. It comes first.\n"
    "\n"
    "History.\n"
    "It is old.\n"
    "</doc>\n"
    '<doc id="2" url="http://x?curid=2" title="Empty">\n'
    "Empty\n"
    "\n"
    "</doc>\n"
    '<doc id="3" url="http://x?curid=3" title="Beta">\n'
    "Beta\n"
    "Beta  has\ttabs and a trailing space \n"
    "</doc>\n"
)
PLAIN = "First doc, line one.\r\nLine two.\n\n\n  \nSecond doc\u2028with a separator.\n\nThird."


def _write(path: Path, text: str) -> Path:
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(text.encode("utf-8"))
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def test_wiki_documents(tmp_path):
    docs = list(read_documents(_write(tmp_path / "w.txt", WIKI)))
    assert docs == [
        ["Alpha is a letter. It comes first.", "History.", "It is old."],
        ["Beta  has\ttabs and a trailing space "],
    ]


def test_plain_documents(tmp_path):
    docs = list(read_documents(_write(tmp_path / "p.txt", PLAIN)))
    assert docs == [["First doc, line one.", "Line two."], ["Second doc\u2028with a separator."], ["Third."]]


@pytest.mark.parametrize("text", [WIKI, PLAIN])
def test_gz_same_as_plain_and_bytes_add_up(tmp_path, text):
    a = _write(tmp_path / "a.txt", text)
    b = _write(tmp_path / "b.txt.gz", text)
    assert list(read_documents(a)) == list(read_documents(b))
    assert sum(n for _, n in sized_documents(b)) == len(text.encode("utf-8"))


def test_format_detected_by_content_not_name(tmp_path):
    # leading blank lines before <doc>, and a .wiki-less name
    w = _write(tmp_path / "notes.md", "\n\n" + WIKI)
    assert len(list(read_documents(w))) == 2
    p = _write(tmp_path / "enwiki.txt", "not a <doc line\n<doc x>\n")
    assert list(read_documents(p)) == [["not a <doc line", "<doc x>"]]


def test_find_files_walks_sorted_skips_hidden(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    _write(tmp_path / "d" / "b.txt", "b\n")
    _write(tmp_path / "d" / "sub" / "a.txt", "a\n")
    _write(tmp_path / "d" / "a.txt.gz", "a gz\n")
    _write(tmp_path / "d" / ".hidden.txt", "h\n")
    (tmp_path / "d" / ".git").mkdir()
    _write(tmp_path / "d" / ".git" / "x", "x\n")
    single = _write(tmp_path / "z.txt", "z\n")
    files = find_files([tmp_path / "d", single, tmp_path / "d" / "b.txt"])
    names = [f.relative_to(tmp_path).as_posix() for f in files]
    assert names == ["d/a.txt.gz", "d/b.txt", "d/sub/a.txt", "z.txt"]
    assert find_files(single) == [single]
    assert [d for d in iter_documents([tmp_path / "d"])] == [["a gz"], ["b"], ["a"]]


def test_find_files_errors(tmp_path):
    with pytest.raises(BertkitError, match="nope.txt: no such file or folder"):
        find_files([tmp_path / "nope.txt"])
    (tmp_path / "empty").mkdir()
    _write(tmp_path / "empty" / ".only-hidden", "x\n")
    with pytest.raises(BertkitError, match="empty: folder holds no"):
        find_files([tmp_path / "empty"])
    with pytest.raises(BertkitError, match="no input files"):
        find_files([])


@pytest.mark.parametrize(
    "text, message",
    [
        ("<doc a>\nT\nx\n", "ends inside the <doc> opened at line 1"),
        ("<doc a>\nT\nx\n<doc b>\n", "line 4: <doc> inside the <doc> opened at line 1"),
        ("<doc a>\nT\n</doc>\nstray\n", "line 4: text outside <doc"),
    ],
)
def test_malformed_wiki(tmp_path, text, message):
    with pytest.raises(BertkitError, match=message):
        list(read_documents(_write(tmp_path / "w.txt", text)))


def test_bad_utf8_names_file_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"fine\nbad \xff here\n")
    with pytest.raises(BertkitError, match=r"bad.txt: line 2 is not valid UTF-8"):
        list(read_documents(p))


def test_real_wikipedia_shard_head(data_dir, tmp_path):
    shard = data_dir / "wikipedia_en" / "enwiki_part00.txt.gz"
    if not shard.is_file():
        pytest.skip(f"data missing: {shard}")
    with gzip.open(shard, "rb") as f:
        head = f.read(200_000)
    head = head[: head.rindex(b"</doc>\n") + 7]
    docs = list(read_documents(_write(tmp_path / "head.txt", head.decode("utf-8"))))
    assert 0 < len(docs) <= head.count(b"<doc ")
    assert docs[0][0].startswith("Anarchism is a political philosophy")
    assert all(p.strip() and not p.startswith("<doc") and p != "</doc>" for d in docs for p in d)


# ---- task files: bertkit.data.tasks ------------------------------------------------------------------------

def test_tsv_verbatim_fields_and_columns(tmp_path):
    p = _write(tmp_path / "t.tsv.gz", '\ufeffsentence\tlabel\nit \'s "fine" , \t1\n\na\rb\u2028c \t0\n')
    table = read_tsv(p)
    assert table.header == ["sentence", "label"]
    assert table.rows == [['it \'s "fine" , ', "1"], ["a\rb\u2028c ", "0"]]
    assert table.columns("label", "sentence")[1] == ("0", "a\rb\u2028c ")
    with pytest.raises(BertkitError, match=r"t.tsv.gz: no column 'text'"):
        table.columns("text")


def test_tsv_errors(tmp_path):
    with pytest.raises(BertkitError, match=r"r.tsv: line 3 has 3 fields, the header has 2"):
        read_tsv(_write(tmp_path / "r.tsv", "a\tb\n1\t2\n1\t2\t3\n"))
    with pytest.raises(BertkitError, match="e.tsv: empty file"):
        read_tsv(_write(tmp_path / "e.tsv", "\n"))


def test_conll(tmp_path):
    text = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n\nPeter\tB-PER\n-DOCSTART- -X- O\nx O\n"
    assert read_conll(_write(tmp_path / "c.txt", text)) == [
        (["EU", "rejects"], ["B-ORG", "O"]),
        (["Peter"], ["B-PER"]),
        (["x"], ["O"]),
    ]
    with pytest.raises(BertkitError, match=r"bad.txt: line 2: expected 'word \.\.\. tag'"):
        read_conll(_write(tmp_path / "bad.txt", "EU B-ORG\nlonely\n"))
    with pytest.raises(BertkitError, match=r"bad2.txt: line 1: expected 'word \.\.\. tag'"):
        read_conll(_write(tmp_path / "bad2.txt", "lonely\nEU B-ORG\n"))
    # words alone, one per line (text to tag): sentences without tags
    assert read_conll(_write(tmp_path / "w.txt", "-DOCSTART-\n\nEU\nrejects\n\nPeter\n")) == [
        (["EU", "rejects"], None), (["Peter"], None)]


SQUAD = (
    '{"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "Bob met Ann.", "qas": [\n'
    '{"id": "q1", "question": "Who met Ann?", "answers": [{"text": "Bob", "answer_start": 0}]},\n'
    '{"id": "q2", "question": "Whom?", "answers": [{"text": "Ann", "answer_start": 8},'
    ' {"text": "Ann.", "answer_start": 8}]}]}]}]}\n'
)


def test_squad(tmp_path):
    exs = read_squad(_write(tmp_path / "s.json.gz", SQUAD))
    assert [(e.id, e.question, e.context, e.title) for e in exs] == [
        ("q1", "Who met Ann?", "Bob met Ann.", "T"),
        ("q2", "Whom?", "Bob met Ann.", "T"),
    ]
    assert exs[1].answers == [Answer("Ann", 8), Answer("Ann.", 8)]
    for ex in exs:
        for a in ex.answers:
            assert ex.context[a.answer_start:].startswith(a.text)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"data": [\n{"paragraphs": 3', r"line 2: not valid JSON"),
        ('{"dat": []}', r"top level: missing 'data'"),
        ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "x", "answers": []}]}]}]}',
         r"data\[0\].paragraphs\[0\].qas\[0\]: missing 'question'"),  # (no 'answers' is a file to predict on)
        ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "x", "question": "q", '
         '"answers": [{"text": "c", "answer_start": "0"}]}]}]}]}', r"answers\[0\].answer_start: expected int"),
    ],
)
def test_squad_errors(tmp_path, text, message):
    with pytest.raises(BertkitError, match=message):
        read_squad(_write(tmp_path / "s.json", text))
