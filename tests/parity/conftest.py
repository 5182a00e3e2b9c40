"""Fixtures for the model parity tests (helpers live in bertparity.py): small random Hugging Face checkpoints
saved by transformers itself, and the table of largest differences printed at the end of the run."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import bertparity  # noqa: E402


def pytest_terminal_summary(terminalreporter):
    if bertparity.MAX_DIFFS:
        terminalreporter.section("model parity: max |diff|")
        for name, d in sorted(bertparity.MAX_DIFFS.items()):
            terminalreporter.write_line(f"{name:60s} {d:.3g}")


@pytest.fixture(scope="session")
def transformers():
    """The oracle; tests that need it skip when it is not installed (the error tests here do not)."""
    return pytest.importorskip("transformers")


@pytest.fixture
def hf_checkpoint(tmp_path, transformers):
    """``hf_checkpoint(cls_name, seed=0, vocab=True, **config)`` -> (HF model in eval mode, directory saved by
    HF's own save_pretrained)."""

    def make(cls_name: str = "BertForPreTraining", seed: int = 0, vocab: bool = True, **cfg):
        torch.manual_seed(seed)
        model = getattr(transformers, cls_name)(transformers.BertConfig(**cfg))
        bertparity.perturb(model, seed).eval()
        d = tmp_path / f"{cls_name}-{seed}"
        model.save_pretrained(d)
        if vocab:
            bertparity.write_vocab(d, cfg["vocab_size"])
        return model, d

    return make
