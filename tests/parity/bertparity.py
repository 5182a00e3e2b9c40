"""Helpers for the model parity tests: made-up vocabularies, weight noise, padded batches, and a record of
the largest differences measured (printed by tests/parity/conftest.py at the end of the run)."""

from __future__ import annotations

from pathlib import Path

import torch

# Made-up vocabulary for checkpoint directories: the specials at BERT's usual ids, then filler tokens.
SPECIALS = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

MAX_DIFFS: dict[str, float] = {}


# How the parity tests run bertkit: the padded reference, and each packed route of bertkit.model.attention.
PACKINGS = ("padded", "loop", "repad")


def record_diff(name: str, a: torch.Tensor, b: torch.Tensor, atol: float, mask: torch.Tensor | None = None) -> None:
    """Assert |a - b| <= atol everywhere (or, given ``mask``, at the real token positions only: a and b are
    (..., L, ...) with mask's shape leading) and remember the largest difference under ``name``."""
    assert a.shape == b.shape, f"{name}: shapes {tuple(a.shape)} vs {tuple(b.shape)}"
    if mask is not None:  # packed runs leave zeros at pad positions, where transformers computes something
        a, b = a[mask.bool()], b[mask.bool()]
    d = (a.float() - b.float()).abs().max().item()
    MAX_DIFFS[name] = max(MAX_DIFFS.get(name, 0.0), d)
    assert d <= atol, f"{name}: max |diff| {d:.3g} > {atol}"


def write_vocab(directory: Path, size: int) -> None:
    """vocab.txt with ``size`` tokens and a tokenizer_config.json, as a BERT checkpoint directory has."""
    tokens = SPECIALS + [f"tok{i}" for i in range(size - len(SPECIALS))]
    (directory / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    (directory / "tokenizer_config.json").write_text(
        '{"do_lower_case": true, "tokenizer_class": "BertTokenizer", "model_max_length": 512}\n', encoding="utf-8")


@torch.no_grad()
def perturb(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Add noise to every parameter so that zero biases and unit LayerNorms cannot hide a swapped key."""
    g = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return model


def random_batch(vocab_size: int, type_vocab_size: int = 2, B: int = 4, L: int = 13, seed: int = 0):
    """(input_ids, attention_mask, token_type_ids), each (B, L); rows padded to lengths L, L-4, 5, 1."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab_size, (B, L), generator=g)
    lengths = torch.tensor([L, L - 4, 5, 1][:B])
    mask = (torch.arange(L)[None] < lengths[:, None]).long()
    types = torch.randint(0, type_vocab_size, (B, L), generator=g)
    ids = ids * mask  # pad id 0 at pad positions, as a tokenizer writes
    return ids, mask, types
