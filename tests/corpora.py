"""Readers for the shared real-data sets, as plain lists of strings or (a, b) pairs, for the parity tests.

Layout and formats: ``shared/data/README.md``. Every reader takes the data folder and raises
``FileNotFoundError`` naming the missing file; the fixtures in ``conftest.py`` turn that into a skip.
TSV files are split on tab with quoting disabled (as GLUE's processors do); text files are opened with
``newline="\\n"`` so that a stray ``\\r`` or other line separator stays inside its line, as in the file.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

VOCABS = ("bert-base-uncased", "bert-base-cased", "bert-base-multilingual-cased", "bert-base-chinese")


def _open(path: Path):
    """Open a UTF-8 text file, gzip or not, keeping every character but ``\\n`` inside lines."""
    if not path.is_file():
        raise FileNotFoundError(f"missing data file {path}")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def _tsv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a GLUE TSV (no quoting, BOM removed from the header)."""
    with _open(path) as f:
        lines = [line.rstrip("\n") for line in f]
    header = lines[0].lstrip("\ufeff").split("\t")
    rows = [line.split("\t") for line in lines[1:] if line]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"{path}: row with {len(row)} fields, header has {len(header)}: {row!r}")
    return header, rows


def _columns(path: Path, *names: str) -> list[tuple[str, ...]]:
    header, rows = _tsv(path)
    idx = [header.index(n) for n in names]
    return [tuple(row[i] for i in idx) for row in rows]


def sst2_sentences(data_dir: Path) -> list[str]:
    """SST-2 train (67,349) + dev (872) sentences, verbatim (they end with a space)."""
    d = data_dir / "glue_sst2"
    return [s for path in (d / "train.tsv.gz", d / "dev.tsv") for (s,) in _columns(path, "sentence")]


def mrpc_pairs(data_dir: Path) -> list[tuple[str, str]]:
    """MRPC train (3,668) + dev (408) (#1 String, #2 String) pairs."""
    d = data_dir / "glue_mrpc"
    return [p for path in (d / "train.tsv", d / "dev.tsv") for p in _columns(path, "#1 String", "#2 String")]


def rte_pairs(data_dir: Path) -> list[tuple[str, str]]:
    """RTE train (2,490) + dev (277) (sentence1, sentence2) pairs."""
    d = data_dir / "glue_rte"
    return [p for path in (d / "train.tsv", d / "dev.tsv") for p in _columns(path, "sentence1", "sentence2")]


def conll_sentences(data_dir: Path) -> list[str]:
    """CoNLL-2003 train + valid + test sentences (20,744), tokens joined with single spaces, no -DOCSTART-."""
    d = data_dir / "conll2003"
    out: list[str] = []
    for path in (d / "train.txt.gz", d / "valid.txt", d / "test.txt"):
        words: list[str] = []
        with _open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip():
                    if words:
                        out.append(" ".join(words))
                    words = []
                    continue
                word = line.split(" ")[0]
                if word == "-DOCSTART-":
                    continue
                words.append(word)
        if words:
            out.append(" ".join(words))
    return out


def squad_pairs(data_dir: Path) -> list[tuple[str, str]]:
    """SQuAD v1.1 dev (question, context) pairs, one per question (10,570)."""
    with _open(data_dir / "squad_v1" / "dev-v1.1.json.gz") as f:
        data = json.load(f)["data"]
    return [
        (qa["question"], para["context"])
        for article in data
        for para in article["paragraphs"]
        for qa in para["qas"]
    ]


def wiki_paragraphs(data_dir: Path, n: int | None = None, max_chars: int | None = None) -> list[str]:
    """The first ``n`` paragraphs (or first ``max_chars`` characters' worth) of the Wikipedia shards, in order.

    A paragraph is a non-empty line inside a ``<doc>`` that is not the ``<doc ...>``/``</doc>`` line or the
    title line that follows ``<doc ...>``.
    """
    shards = sorted((data_dir / "wikipedia_en").glob("enwiki_part*.txt.gz"))
    if not shards:
        raise FileNotFoundError(f"no enwiki_part*.txt.gz in {data_dir / 'wikipedia_en'}")
    out: list[str] = []
    chars = 0
    for shard in shards:
        with _open(shard) as f:
            title_next = False
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("<doc ") or line.startswith("<doc>"):
                    title_next = True
                    continue
                if title_next:
                    title_next = False
                    continue
                if line == "</doc>" or not line:
                    continue
                out.append(line)
                chars += len(line)
                if (n is not None and len(out) >= n) or (max_chars is not None and chars >= max_chars):
                    return out
    if n is not None and len(out) < n:
        raise ValueError(f"only {len(out)} Wikipedia paragraphs available, {n} asked for")
    return out
