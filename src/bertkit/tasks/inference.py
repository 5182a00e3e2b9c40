"""Running a fine-tuned model over many features: sorted by length into token-budget batches, outputs handed
back in input order, one numpy array per feature trimmed to its own length.
"""

from __future__ import annotations

import contextlib
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from bertkit.data.batch import Batch
from bertkit.data.finetune import budget_batches, collate
from bertkit.utils.malloc import reuse_freed_memory


def logits_of(model: nn.Module, batch: Batch) -> tuple[Tensor, bool]:
    """The model's scores for a batch and whether they are spans: ``logits``, or QA's start/end stacked into
    (B, 2, L)."""
    out = model(batch.input_ids, batch.attention_mask, batch.token_type_ids)
    if hasattr(out, "start_logits"):
        return torch.stack([out.start_logits, out.end_logits], dim=1), True
    return out.logits, False


@torch.no_grad()
def run_features(model: nn.Module, features: Sequence, pad_id: int, *, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32, max_tokens: int = 16384) -> list[np.ndarray]:
    """Scores of every feature, in input order, as float32 numpy arrays: (K,) or (C,) per sequence, (L, K)
    per token or (2, L) for spans, with L the feature's own length (padding cut off).

    max_tokens: padded tokens per batch (all candidates counted); dtype: the autocast dtype (float32 = none).
    """
    model.eval()
    device = torch.device(device)
    out: list[np.ndarray | None] = [None] * len(features)
    lengths = [f.length for f in features]
    cast = (torch.autocast(device_type=device.type, dtype=dtype) if dtype is not torch.float32
            else contextlib.nullcontext())
    with reuse_freed_memory(device.type == "cpu"):  # no fresh pages per batch (bertkit.utils.malloc)
        for idx in budget_batches([f.cost for f in features], lengths, max_tokens):
            batch = collate([features[i] for i in idx], pad_id, None).to(device)
            with cast:
                s, spans = logits_of(model, batch)
            s = s.float().cpu().numpy()
            for row, i in zip(s, idx):
                if spans:  # (2, L)
                    row = row[:, : lengths[i]]
                elif s.ndim == 3 and batch.input_ids.ndim == 2:  # tokens (L, K)
                    row = row[: lengths[i]]
                out[i] = row
    return out  # type: ignore[return-value]
