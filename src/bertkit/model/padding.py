"""Unpad / pad helpers for running the encoder on packed tokens (the later fast path; MosaicML BERT,
flash-attn ``bert_padding``).

The padded (B, L, ...) path is the reference. ``unpad`` gathers the real tokens of a batch into one (T, ...)
tensor, with ``cu_seqlens`` (B + 1,) int32 cumulative lengths as variable-length attention kernels expect;
``pad`` scatters them back. Positions are kept in row-major order, so sequence b owns tokens
``cu_seqlens[b]:cu_seqlens[b + 1]`` as long as each row's tokens are a prefix (right padding).
"""

from __future__ import annotations

import torch
from torch import Tensor


def unpad(hidden: Tensor, attention_mask: Tensor) -> tuple[Tensor, Tensor, Tensor, int]:
    """Gather the non-pad positions.

    hidden: (B, L, ...) any trailing shape; attention_mask: (B, L), nonzero = token.
    Returns tokens (T, ...), indices (T,) long into the flattened B*L positions, cu_seqlens (B + 1,) int32,
    and max_len (the longest row, a Python int).
    """
    mask = attention_mask.bool()
    seqlens = mask.sum(dim=1, dtype=torch.int32)  # (B,)
    indices = torch.nonzero(mask.flatten(), as_tuple=False).flatten()  # (T,)
    cu_seqlens = torch.nn.functional.pad(torch.cumsum(seqlens, dim=0, dtype=torch.int32), (1, 0))  # (B + 1,)
    max_len = int(seqlens.max().item()) if seqlens.numel() else 0
    tokens = hidden.flatten(0, 1)[indices]  # (B*L, ...) -> (T, ...)
    return tokens, indices, cu_seqlens, max_len


def pad(tokens: Tensor, indices: Tensor, batch: int, seqlen: int) -> Tensor:
    """Scatter packed tokens (T, ...) back to (batch, seqlen, ...), zeros at pad positions."""
    out = tokens.new_zeros((batch * seqlen, *tokens.shape[1:]))
    out[indices] = tokens
    return out.view(batch, seqlen, *tokens.shape[1:])
