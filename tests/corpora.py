"""The shared real-data sets as plain lists of strings or (a, b) pairs, for the parity tests.

Layout and formats: ``shared/data/README.md``. Read with the library's readers (``bertkit.data.tasks``,
``bertkit.data.corpus``), so only ``\\n`` ends a line and a stray ``\\r`` or other line separator stays
inside its line, as in the file; TSV fields are split on tab with quoting disabled (as GLUE's processors
do). Every reader takes the data folder and raises ``FileNotFoundError`` naming a missing file; the fixtures
in ``conftest.py`` turn that into a skip.
"""

from __future__ import annotations

from pathlib import Path

from bertkit.data.corpus import iter_documents
from bertkit.data.tasks.conll import read_conll
from bertkit.data.tasks.squad import read_squad
from bertkit.data.tasks.tsv import read_tsv

VOCABS = ("bert-base-uncased", "bert-base-cased", "bert-base-multilingual-cased", "bert-base-chinese")


def _need(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"missing data file {path}")
    return path


def _columns(path: Path, *names: str) -> list[tuple[str, ...]]:
    return read_tsv(_need(path)).columns(*names)


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
    return [
        " ".join(words)
        for path in (d / "train.txt.gz", d / "valid.txt", d / "test.txt")
        for words, _ in read_conll(_need(path))
    ]


def squad_pairs(data_dir: Path) -> list[tuple[str, str]]:
    """SQuAD v1.1 dev (question, context) pairs, one per question (10,570)."""
    return [(ex.question, ex.context) for ex in read_squad(_need(data_dir / "squad_v1" / "dev-v1.1.json.gz"))]


def wiki_paragraphs(data_dir: Path, n: int | None = None, max_chars: int | None = None) -> list[str]:
    """The first ``n`` paragraphs (or first ``max_chars`` characters' worth) of the Wikipedia shards, in order.

    A paragraph is a line with some non-whitespace inside a ``<doc>``, other than the title line that follows
    ``<doc ...>`` (``bertkit.data.corpus``). Whitespace-only lines (70 single spaces among the first 100,000
    lines, which tokenize to nothing) are not paragraphs, so the window ends 70 lines later than it did when
    they counted.
    """
    shards = sorted((data_dir / "wikipedia_en").glob("enwiki_part*.txt.gz"))
    if not shards:
        raise FileNotFoundError(f"no enwiki_part*.txt.gz in {data_dir / 'wikipedia_en'}")
    out: list[str] = []
    chars = 0
    for doc in iter_documents(shards):
        for line in doc:
            out.append(line)
            chars += len(line)
            if (n is not None and len(out) >= n) or (max_chars is not None and chars >= max_chars):
                return out
    if n is not None and len(out) < n:
        raise ValueError(f"only {len(out)} Wikipedia paragraphs available, {n} asked for")
    return out
