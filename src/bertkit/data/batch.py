"""The one ``Batch`` type every objective consumes (pretraining, each task family), and padding of id arrays.

A batch is right-padded (B, L) model inputs plus whichever targets the objective needs; fields an objective
does not use stay None. Masked-LM targets are explicit: ``mlm_positions`` are flat indices into the B*L
positions, so the MLM head gathers exactly those rows (sparse MLM) and never guesses them from label values.

Shapes: B batch, L padded length, M masked positions in the whole batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor


@dataclass
class Batch:
    """Model inputs and optional targets.

    input_ids, attention_mask, token_type_ids: (B, L) long; attention_mask 1 = token, 0 = pad.
    mlm_positions: (M,) long flat indices into B*L (row-major); mlm_labels: (M,) long, the original token ids.
    next_sentence_label: (B,) long, 0 = segment B follows A, 1 = B is random (BERT's convention).
    labels: task targets, (B,) for sequence tasks or (B, L) for token tasks (-100 = no loss).
    """

    input_ids: Tensor
    attention_mask: Tensor
    token_type_ids: Tensor
    mlm_positions: Tensor | None = None
    mlm_labels: Tensor | None = None
    next_sentence_label: Tensor | None = None
    labels: Tensor | None = None

    @property
    def size(self) -> int:
        """B, the number of sequences."""
        return self.input_ids.shape[0]

    @property
    def num_tokens(self) -> int:
        """Real (non-pad) tokens in the batch (a host sync if the mask lives on a GPU)."""
        return int(self.attention_mask.sum())

    def to(self, device, non_blocking: bool = False) -> "Batch":
        """A copy with every tensor moved to ``device``."""
        moved = {f.name: (v.to(device, non_blocking=non_blocking) if isinstance(v := getattr(self, f.name), Tensor)
                          else v) for f in dataclasses.fields(self)}
        return Batch(**moved)


def pad_ids(rows: Sequence[Sequence[int] | np.ndarray], pad_id: int, *, length: int | None = None,
            pad_to_multiple_of: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad id rows into one array.

    rows: B sequences of ids; length: pad to this (default the longest row), rounded up to
    ``pad_to_multiple_of``. Returns (ids (B, L) int64, attention_mask (B, L) int64).
    """
    lens = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    n = int(lens.max()) if len(rows) else 0
    if length is not None:
        n = max(n, length)
    if pad_to_multiple_of:
        n = -(-n // pad_to_multiple_of) * pad_to_multiple_of
    ids = np.full((len(rows), n), pad_id, dtype=np.int64)
    mask = (np.arange(n)[None, :] < lens[:, None]).astype(np.int64)  # (B, L)
    if len(rows):
        ids[mask.astype(bool)] = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows])
    return ids, mask


def pad_encodings(encs: Sequence, pad_id: int, pad_to_multiple_of: int | None = None) -> Batch:
    """Right-pad tokenizer Encodings (objects with ``input_ids`` and ``token_type_ids`` lists) into a Batch."""
    ids, mask = pad_ids([e.input_ids for e in encs], pad_id, pad_to_multiple_of=pad_to_multiple_of)
    types, _ = pad_ids([e.token_type_ids for e in encs], 0, length=ids.shape[1])
    return Batch(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
