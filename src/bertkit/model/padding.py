"""How a batch's padding reaches the encoder: the metadata that :func:`bertkit.model.attention.attention` is
given (MosaicML BERT, flash-attn ``bert_padding``; STYLE.md §3.8).

The padded (B, L, ...) path is the reference: :class:`Padded` carries its additive mask bias. :class:`Packed`
describes the real tokens of a right-padded batch gathered into one (T, ...) tensor, the sequences one after
another in order of length (shortest first, ties in batch order), so that sequences of one length are
contiguous and attention can take each such run as one (n, l, ...) batch without a mask; the i-th sequence
so ordered owns tokens ``cu_seqlens[i]:cu_seqlens[i + 1]``, with ``cu_seqlens`` (B + 1,) int32 cumulative
lengths as variable-length attention kernels expect; ``gather`` and ``scatter`` move tensors between the two
layouts (scatter puts every token back at its place in the batch and leaves zeros at pad positions).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

import torch
import torch.nn.functional as F
from torch import Tensor

from bertkit.config import ATTENTION_ROUTES


def mask_bias_value(dtype: torch.dtype) -> float:
    """The additive bias of a masked position: the lowest value that stays finite in ``dtype`` and once cast to
    float16 or bf16 under autocast (float32's own minimum rounds to -inf there, and an all-pad row of -inf turns
    into NaN). -65504 still sends exp() of a masked score to exactly 0 in every dtype, as float32's minimum does."""
    return max(torch.finfo(dtype).min, torch.finfo(torch.float16).min)


def mask_to_bias(attention_mask: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    """(B, L) 1 = token, 0 = pad -> additive (B, 1, 1, L) bias (0 or :func:`mask_bias_value`), or None.

    A finite value instead of -inf keeps an all-pad row finite (uniform attention) rather than NaN.
    """
    if attention_mask is None:
        return None
    keep = attention_mask.bool()[:, None, None, :]  # (B, L) -> (B, 1, 1, L)
    return torch.zeros(keep.shape, dtype=dtype, device=keep.device).masked_fill(~keep, mask_bias_value(dtype))


@dataclass(frozen=True)
class Padded:
    """Attention metadata of a padded batch: activations are (B, L, H); ``bias`` (B, 1, 1, L) or None."""

    bias: Tensor | None


@dataclass(frozen=True)
class Packed:
    """Attention metadata of packed tokens: activations are (T, H), the i-th sequence in packed order (by
    length) owning rows ``cu_seqlens[i]:cu_seqlens[i + 1]``.

    cu_seqlens: (B + 1,) int32 on the activations' device; seqlens: the B lengths on the host, in packed
    order (ascending); max_len: the longest; indices: (T,) long, each packed token's flat position in the padded
    (B, L) batch; batch, seqlen: B, L; route: one of :data:`bertkit.config.ATTENTION_ROUTES`; bias: (B, 1, 1, L)
    mask bias for the ``repad`` route (else None); runs: ``(length, count)`` of each run of equal lengths in
    packed order.
    """

    cu_seqlens: Tensor
    seqlens: tuple[int, ...]
    max_len: int
    indices: Tensor
    batch: int
    seqlen: int
    route: str
    bias: Tensor | None = None
    runs: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_mask(cls, attention_mask: Tensor, route: str, dtype: torch.dtype) -> "Packed":
        """Metadata for a right-padded (B, L) mask (1 = token; each row's tokens a prefix)."""
        if route not in ATTENTION_ROUTES:
            raise ValueError(f"unknown attention route {route!r}; expected one of {ATTENTION_ROUTES}")
        mask = attention_mask.bool()
        B, L = mask.shape
        lens = mask.sum(dim=1, dtype=torch.int32)  # (B,)
        order = torch.argsort(lens, stable=True)  # batch rows, shortest first
        lens = lens[order]
        seqlens = tuple(lens.tolist())
        place = order[:, None] * L + torch.arange(L, device=mask.device)  # (B, L) flat positions, rows in order
        indices = place[mask[order]]  # (T,)
        cu = F.pad(torch.cumsum(lens, dim=0, dtype=torch.int32), (1, 0))  # (B + 1,)
        bias = mask_to_bias(attention_mask, dtype) if route == "repad" else None
        runs = tuple((n, len(list(same))) for n, same in groupby(seqlens))
        return cls(cu, seqlens, max(seqlens, default=0), indices, B, L, route, bias, runs)

    def gather(self, x: Tensor) -> Tensor:
        """(B, L, ...) padded -> (T, ...) packed."""
        return x.flatten(0, 1).index_select(0, self.indices)

    def scatter(self, x: Tensor) -> Tensor:
        """(T, ...) packed -> (B, L, ...) padded, zeros at pad positions."""
        out = x.new_zeros((self.batch * self.seqlen, *x.shape[1:]))
        return out.index_copy(0, self.indices, x).view(self.batch, self.seqlen, *x.shape[1:])
