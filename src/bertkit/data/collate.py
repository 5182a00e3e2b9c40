"""Collation: lists of tokenizer Encodings -> padded (B, L) tensors for the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch


@dataclass
class Batch:
    """A padded batch; every tensor is (B, L) long, padded on the right."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor

    def to(self, device) -> "Batch":
        return Batch(self.input_ids.to(device), self.attention_mask.to(device), self.token_type_ids.to(device))


def pad_encodings(encs: Sequence, pad_id: int, pad_to_multiple_of: int | None = None) -> Batch:
    """Right-pad encodings (objects with ``input_ids`` and ``token_type_ids`` lists) to the longest one."""
    n = max(len(e.input_ids) for e in encs)
    if pad_to_multiple_of:
        n = -(-n // pad_to_multiple_of) * pad_to_multiple_of
    ids = torch.full((len(encs), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(encs), n), dtype=torch.long)
    types = torch.zeros((len(encs), n), dtype=torch.long)
    for r, e in enumerate(encs):
        k = len(e.input_ids)
        ids[r, :k] = torch.tensor(e.input_ids, dtype=torch.long)
        mask[r, :k] = 1
        types[r, :k] = torch.tensor(e.token_type_ids, dtype=torch.long)
    return Batch(ids, mask, types)
