"""Token store (bertkit.data.store) and its builder (bertkit.data.prepare): round trip on small synthetic
documents, the same store for 1 and 2 workers, idempotent reruns, interrupted and incomplete builds, and
one-line errors for missing, incomplete or malformed stores."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from bertkit.data import prepare as prepare_module
from bertkit.data.prepare import prepare, tokenize_documents
from bertkit.data.sentences import split_sentences
from bertkit.data.store import TokenStore
from bertkit.tokenizer import Tokenizer
from bertkit.utils.errors import BertkitError

WORDS = "the a cat dog sat on mat ran far away he she it was big small red one two three . , !".split()
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

PLAIN = (
    "The cat sat on the mat. The dog ran far away!\n"
    "He was big.\n"
    "\n"
    "...   !!! \n"  # a document whose sentences hold only punctuation still has tokens
    "\n"
    "She was small. It was red.\n"
    "One two three.\n"
)
WIKI = (
    '<doc id="1" url="u" title="Cat">\nCat\n\nThe cat sat. It was red.\n</doc>\n'
    '<doc id="2" url="u" title="Empty">\nEmpty\n\n</doc>\n'
    '<doc id="3" url="u" title="Dog">\nDog\nA dog ran far away. He was big!\n\nOne two.\n</doc>\n'
)


def _tokenizer_dir(root: Path, extra: int = 0) -> Path:
    d = root / "tok"
    d.mkdir(exist_ok=True)
    words = SPECIALS + WORDS + [f"w{i}" for i in range(extra)]
    (d / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    return d


@pytest.fixture
def corpus(tmp_path) -> tuple[list[Path], Path]:
    (tmp_path / "in").mkdir()
    a = tmp_path / "in" / "a.txt"
    a.write_text(PLAIN, encoding="utf-8")
    b = tmp_path / "in" / "b.wiki"
    b.write_text(WIKI, encoding="utf-8")
    return [tmp_path / "in"], _tokenizer_dir(tmp_path)


def _expected(tok: Tokenizer, docs: list[list[str]]) -> list[list[list[int]]]:
    out = []
    for doc in docs:
        sents = [tok.encode_ids(s, add_special_tokens=False) for p in doc for s in split_sentences(p)]
        sents = [s for s in sents if s]
        if sents:
            out.append(sents)
    return out


def _files(path: Path) -> dict[str, bytes]:
    return {n: (path / n).read_bytes() for n in ("tokens.bin", "sentence_offsets.bin", "document_offsets.bin")}


def test_round_trip(corpus, tmp_path):
    inputs, tok_dir = corpus
    r = prepare(inputs, tok_dir, tmp_path / "store", workers=1)
    assert not r.up_to_date and r.raw_bytes == len(PLAIN.encode()) + len(WIKI.encode())
    store = TokenStore.open(tmp_path / "store")
    tok = Tokenizer.from_pretrained(tok_dir)
    from bertkit.data.corpus import iter_documents

    want = _expected(tok, list(iter_documents(inputs)))
    assert store.num_documents == len(want) == r.num_documents == 5  # the empty Wikipedia article is dropped
    got = [[s.tolist() for s in store.document(d)] for d in range(store.num_documents)]
    assert got == want
    assert store.num_sentences == sum(map(len, want)) and store.num_tokens == sum(len(s) for d in want for s in d)
    assert store.tokens.dtype == np.uint16 and not store.tokens.flags.writeable
    assert store.sentence_offsets.dtype == np.int64 and store.sentence_offsets[-1] == store.num_tokens
    assert store.vocab_size == tok.vocab_size and store.manifest["complete"] is True
    assert Tokenizer.from_pretrained(store.tokenizer_dir).ids_to_tokens == tok.ids_to_tokens
    assert [s.tolist() for s in store.document(-1)] == want[-1]
    assert tok.cls_token_id not in store.tokens and tok.sep_token_id not in store.tokens
    store.verify()
    recs = store.manifest["inputs"]
    assert [Path(x["path"]).name for x in recs] == ["a.txt", "b.wiki"] and all(len(x["sha256"]) == 64 for x in recs)
    assert sum(x["documents"] for x in recs) == 5


def test_one_and_two_workers_same_store(corpus, tmp_path):
    inputs, tok_dir = corpus
    prepare(inputs, tok_dir, tmp_path / "s1", workers=1, task_bytes=40)
    prepare(inputs, tok_dir, tmp_path / "s2", workers=2, task_bytes=40)
    prepare(inputs, tok_dir, tmp_path / "s3", workers=1)  # one task per file: chunking changes nothing either
    assert _files(tmp_path / "s1") == _files(tmp_path / "s2") == _files(tmp_path / "s3")
    m1, m2 = (json.loads((tmp_path / s / "manifest.json").read_text()) for s in ("s1", "s2"))
    assert m1.pop("build")["workers"] == 1 and m2.pop("build")["workers"] == 2
    assert m1 == m2


def test_second_run_does_nothing(corpus, tmp_path):
    inputs, tok_dir = corpus
    out = tmp_path / "store"
    prepare(inputs, tok_dir, out, workers=1)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    r = prepare(inputs, tok_dir, out, workers=1)
    assert r.up_to_date and r.num_documents == 5
    a = inputs[0] / "a.txt"
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 10**9))  # touched, same content: hashed, same
    assert prepare(inputs, tok_dir, out, workers=1).up_to_date
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    a.write_text(PLAIN.replace("cat", "dog"), encoding="utf-8")
    with pytest.raises(BertkitError, match=r"holds a token store built from other inputs .*a.txt changed.*--force"):
        prepare(inputs, tok_dir, out, workers=1)
    r = prepare(inputs, tok_dir, out, workers=1, force=True)
    assert not r.up_to_date and TokenStore.open(out).num_documents == 5


def test_other_tokenizer_or_inputs_refused(corpus, tmp_path):
    inputs, tok_dir = corpus
    out = tmp_path / "store"
    prepare(inputs, tok_dir, out, workers=1)
    (tmp_path / "x").mkdir()
    other = _tokenizer_dir(tmp_path / "x", extra=3)
    with pytest.raises(BertkitError, match="built from other tokenizer"):
        prepare(inputs, other, out, workers=1)
    with pytest.raises(BertkitError, match="built from other inputs"):
        prepare([inputs[0] / "a.txt"], tok_dir, out, workers=1)


def test_interrupted_build_leaves_nothing(corpus, tmp_path, monkeypatch):
    inputs, tok_dir = corpus
    calls = []

    def boom(tok, docs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return tokenize_documents(tok, docs)

    monkeypatch.setattr(prepare_module, "tokenize_documents", boom)
    with pytest.raises(KeyboardInterrupt):
        prepare(inputs, tok_dir, tmp_path / "store", workers=1, task_bytes=40)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "tok"]  # no store, no temporary folder


def test_killed_build_cleared_and_incomplete_store_rebuilt(corpus, tmp_path):
    inputs, tok_dir = corpus
    dead = tmp_path / ".store.abc123.tmp"  # what a SIGKILLed run leaves: a temporary folder with its pid
    dead.mkdir()
    (dead / ".building").write_text("999999999")
    (dead / "tokens.bin").write_bytes(b"\0" * 10)
    out = tmp_path / "store"
    out.mkdir()
    (out / "tokens.bin").write_bytes(b"\0" * 10)
    (out / "manifest.json").write_text('{"format": "bertkit-token-store", "format_version": 1, "complete": false}')
    with pytest.raises(BertkitError, match="incomplete token store"):
        TokenStore.open(out)
    r = prepare(inputs, tok_dir, out, workers=1)
    assert not r.up_to_date and not dead.exists()
    assert TokenStore.open(out).num_documents == 5


def test_refuses_to_replace_a_folder_that_is_not_a_store(corpus, tmp_path):
    inputs, tok_dir = corpus
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    with pytest.raises(BertkitError, match="not empty and holds no token store.*--force"):
        prepare(inputs, tok_dir, out, workers=1)
    assert (out / "notes.txt").read_text() == "precious"
    (out / "notes.txt").unlink()
    assert not prepare(inputs, tok_dir, out, workers=1).up_to_date  # an empty folder is fine


def test_output_inside_input_folder_is_not_read(corpus, tmp_path):
    inputs, tok_dir = corpus
    out = inputs[0] / "store"
    prepare(inputs, tok_dir, out, workers=1)
    assert prepare(inputs, tok_dir, out, workers=1).up_to_date


def test_uint32_for_large_vocab(tmp_path):
    tok_dir = _tokenizer_dir(tmp_path, extra=70_000)
    (tmp_path / "t.txt").write_text("w69999 w1. The cat.\n", encoding="utf-8")
    prepare([tmp_path / "t.txt"], tok_dir, tmp_path / "s", workers=1)
    store = TokenStore.open(tmp_path / "s")
    assert store.tokens.dtype == np.uint32 and store.manifest["dtype"] == "<u4"
    assert store.tokens.max() == len(SPECIALS) + len(WORDS) + 69_999


def test_empty_input_is_an_error(tmp_path):
    tok_dir = _tokenizer_dir(tmp_path)
    (tmp_path / "e.txt").write_text("\n  \n\n", encoding="utf-8")
    with pytest.raises(BertkitError, match="no text to tokenize"):
        prepare([tmp_path / "e.txt"], tok_dir, tmp_path / "s", workers=1)
    assert not (tmp_path / "s").exists()


def _break(store: Path, what: str) -> None:
    m = json.loads((store / "manifest.json").read_text())
    if what == "no manifest":
        (store / "manifest.json").unlink()
    elif what == "bad json":
        (store / "manifest.json").write_text("{")
    elif what == "other format":
        (store / "manifest.json").write_text(json.dumps({**m, "format": "x"}))
    elif what == "no count":
        del m["num_tokens"]
        (store / "manifest.json").write_text(json.dumps(m))
    elif what == "short tokens":
        data = (store / "tokens.bin").read_bytes()
        (store / "tokens.bin").write_bytes(data[:-2])
    elif what == "no sentences":
        (store / "sentence_offsets.bin").unlink()
    elif what == "bad offsets":
        so = np.fromfile(store / "sentence_offsets.bin", dtype="<i8")
        so[-1] += 1
        so.tofile(store / "sentence_offsets.bin")
    elif what == "no tokenizer":
        (store / "tokenizer" / "vocab.txt").unlink()


@pytest.mark.parametrize(
    "what, message",
    [
        ("no manifest", "not a token store"),
        ("bad json", "malformed manifest"),
        ("other format", "not a bertkit-token-store manifest"),
        ("no count", "malformed manifest"),
        ("short tokens", r"tokens.bin: \d+ bytes, the manifest says"),
        ("no sentences", "sentence_offsets.bin: missing"),
        ("bad offsets", "sentence_offsets.bin: offsets run 0"),
        ("no tokenizer", "missing vocab.txt"),
    ],
)
def test_open_refuses_broken_stores(corpus, tmp_path, what, message):
    inputs, tok_dir = corpus
    prepare(inputs, tok_dir, tmp_path / "store", workers=1)
    _break(tmp_path / "store", what)
    with pytest.raises(BertkitError, match=message) as e:
        TokenStore.open(tmp_path / "store")
    assert "\n" not in str(e.value) and str(tmp_path / "store") in str(e.value)


def test_open_missing_or_file(tmp_path):
    with pytest.raises(BertkitError, match="nope: no such token store folder"):
        TokenStore.open(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(BertkitError, match="is a file"):
        TokenStore.open(tmp_path / "f")
