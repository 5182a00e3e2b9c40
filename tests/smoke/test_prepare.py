"""``bertkit prepare`` end to end on a real slice of Wikipedia (the first ~300 KB of a shard, gzipped) with
the bert-base-uncased vocabulary: the store opens and matches the tokenizer, 1 and 2 workers agree, a rerun
does nothing, and bad input gets one line on stderr, a non-zero exit and no store."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bertkit.data.corpus import read_documents
from bertkit.data.sentences import split_sentences
from bertkit.data.store import TokenStore
from bertkit.tokenizer import Tokenizer
from clirun import assert_one_line_error, bertkit


@pytest.fixture(scope="module")
def wiki_slice(data_dir, tmp_path_factory) -> Path:
    shard = data_dir / "wikipedia_en" / "enwiki_part00.txt.gz"
    if not shard.is_file():
        pytest.skip(f"data missing: {shard}")
    with gzip.open(shard, "rb") as f:
        head = f.read(300_000)
    head = head[: head.rindex(b"</doc>\n") + len(b"</doc>\n")]  # whole articles only
    path = tmp_path_factory.mktemp("wiki") / "slice.txt.gz"
    with gzip.open(path, "wb") as f:
        f.write(head)
    return path


@pytest.fixture(scope="module")
def uncased(vocab_dir) -> Path:
    return vocab_dir("bert-base-uncased")


def test_prepare_real_slice(wiki_slice, uncased, tmp_path):
    out1, out2 = tmp_path / "s1", tmp_path / "s2"
    p = bertkit("prepare", wiki_slice, "--tokenizer", uncased, "--output", out1, "--workers", "1")
    assert p.stdout.startswith(f"wrote {out1}: ") and "documents" in p.stdout and "MB/s" in p.stdout
    bertkit("prepare", wiki_slice, "--tokenizer", uncased, "--output", out2, "--workers", "2")
    for name in ("tokens.bin", "sentence_offsets.bin", "document_offsets.bin"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name

    store = TokenStore.open(out1)
    tok = Tokenizer.from_pretrained(uncased)
    docs = list(read_documents(wiki_slice))
    assert store.num_documents == len(docs) >= 5
    first = [tok.encode_ids(s, add_special_tokens=False) for p in docs[0] for s in split_sentences(p)]
    assert [s.tolist() for s in store.document(0)] == [s for s in first if s]
    assert tok.decode(store.document(0)[0].tolist()).startswith("anarchism is a political philosophy")
    assert store.vocab_size == 30522 and store.tokens.dtype.itemsize == 2
    m = json.loads((out1 / "manifest.json").read_text())
    assert m["tokenizer"]["lowercase"] is True and m["inputs"][0]["path"] == str(wiki_slice.resolve())

    again = bertkit("prepare", wiki_slice, "--tokenizer", uncased, "--output", out1)
    assert again.stdout.strip() == (f"{out1} is up to date ({store.num_documents:,} documents, "
                                    f"{store.num_sentences:,} sentences, {store.num_tokens:,} tokens); nothing to do")


def test_prepare_errors(wiki_slice, uncased, tmp_path):
    out = tmp_path / "s"
    assert_one_line_error(bertkit("prepare", tmp_path / "nope.txt", "--tokenizer", uncased, "--output", out,
                                  check=False), "nope.txt: no such file or folder")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert_one_line_error(bertkit("prepare", empty, "--tokenizer", uncased, "--output", out, check=False),
                          "no text to tokenize")
    assert_one_line_error(bertkit("prepare", wiki_slice, "--tokenizer", tmp_path, "--output", out, check=False),
                          "vocab.txt: no such file")
    assert not out.exists() and not list(tmp_path.glob(".s.*"))

    one = tmp_path / "one.txt"
    one.write_text("One line.\n")
    bertkit("prepare", one, "--tokenizer", uncased, "--output", out, "--workers", "1")
    other = bertkit("prepare", wiki_slice, "--tokenizer", uncased, "--output", out, check=False)
    assert_one_line_error(other, f"{out}: holds a token store built from other inputs", "--force")
    forced = bertkit("prepare", wiki_slice, "--tokenizer", uncased, "--output", out, "--force", "--workers", "1")
    assert forced.stdout.startswith(f"wrote {out}")

    bad = bertkit("prepare", wiki_slice, "--tokenizer", uncased, "--output", out, "--workers", "0", check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
