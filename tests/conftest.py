"""Shared fixtures: the data folder, real-data corpora (see ``corpora.py``) and tokenizer references per vocabulary.

Everything heavy is session-scoped, so each xdist worker reads a corpus or builds a reference once. A fixture
whose data file is missing skips the test with the path in the reason; it never passes silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import corpora

# Under CI (CI=true) a skipped test fails: a missing data file, oracle or dependency must never turn the suite
# green. A skip that is right on CI's machine too (e.g. no GPU there) says so with this tag in its reason.
SKIP_OK_IN_CI = "[ok-in-ci]"


def _ci() -> bool:
    import os

    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _fail_skip_under_ci(report) -> None:
    if _ci() and report.skipped and SKIP_OK_IN_CI not in str(report.longrepr):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip_under_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip_under_ci(outcome.get_result())

# How many Wikipedia paragraphs the parity sweep reads (the first N of the shards, in order).
WIKI_PARAGRAPHS = 100_000


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data folder (``$BERTKIT_DATA`` or ``../shared/data`` beside the repo)."""
    from bertkit.utils.paths import shared_data_dir

    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} not found (set BERTKIT_DATA)")
    return path


def _read(reader, data_dir: Path, *args):
    try:
        return reader(data_dir, *args)
    except FileNotFoundError as e:
        pytest.skip(f"data missing: {e}")


@pytest.fixture(scope="session")
def sst2_sentences(data_dir):
    return _read(corpora.sst2_sentences, data_dir)


@pytest.fixture(scope="session")
def mrpc_pairs(data_dir):
    return _read(corpora.mrpc_pairs, data_dir)


@pytest.fixture(scope="session")
def rte_pairs(data_dir):
    return _read(corpora.rte_pairs, data_dir)


@pytest.fixture(scope="session")
def conll_sentences(data_dir):
    return _read(corpora.conll_sentences, data_dir)


@pytest.fixture(scope="session")
def squad_pairs(data_dir):
    return _read(corpora.squad_pairs, data_dir)


@pytest.fixture(scope="session")
def wiki_paragraphs(data_dir):
    return _read(corpora.wiki_paragraphs, data_dir, WIKI_PARAGRAPHS)


@pytest.fixture(scope="session")
def vocab_dir(data_dir):
    """``vocab_dir(name)`` -> the folder holding ``vocab.txt`` and ``tokenizer_config.json`` (skips if absent)."""

    def get(name: str) -> Path:
        path = data_dir / "vocab" / name
        if not (path / "vocab.txt").is_file():
            pytest.skip(f"vocabulary missing: {path / 'vocab.txt'}")
        return path

    return get


@pytest.fixture(scope="session")
def refs(vocab_dir):
    """``refs(name)`` -> ``tokparity.Refs``: BertTokenizerFast, BertTokenizerLegacy (plain and memoised) and
    bertkit's Tokenizer for one vocabulary, built once per session."""
    import tokparity

    cache: dict[str, tokparity.Refs] = {}

    def get(name: str) -> tokparity.Refs:
        if name not in cache:
            cache[name] = tokparity.Refs.build(vocab_dir(name))
        return cache[name]

    return get
