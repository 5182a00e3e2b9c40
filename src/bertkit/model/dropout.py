"""Dropout and training-time attention that are cheap on CPU.

On CPU, PyTorch's dropout draws one random number per element (``bernoulli_``), which costs more than the
matmuls around it: in a MiniLM fine-tuning step on 32 x 128 tokens the masks were a third of the step
(BENCHMARKS.md, "Fine-tuning"). Here a mask takes 16 random bits per element, four from each 64-bit draw,
so the probability is rounded to a multiple of 2**-16 (0.1 becomes 6554 / 65536 = 0.100006) and kept values
are scaled by 1 / (1 - that probability): still an exact inverted dropout for the rounded rate. On other
devices (CUDA) PyTorch's fused kernels are already fast and are used as they are.

Training attention on CPU is written out (scores, softmax, dropout, weighted sum) instead of calling
``scaled_dot_product_attention``: with dropout PyTorch falls back to its math path in float32 and draws its
mask with ``bernoulli_``, and even without dropout its CPU flash backward was slower than two batched matmuls
at 128 tokens (longer sequences without dropout were not measured). Scores and softmax are float32 whatever
the autocast dtype (as the fused kernels keep them), so only the speed changes, not the precision.
Evaluation keeps ``scaled_dot_product_attention``.

Shapes: B batch, h heads, L sequence length, d head size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_LEVELS = 1 << 16  # a kept element is one whose 16 random bits are >= round(p * _LEVELS)


def keep_mask(shape: torch.Size | tuple[int, ...], p: float, device: torch.device | str = "cpu") -> Tensor:
    """A bool tensor of ``shape``, each element True with probability 1 - round(p * 2**16) / 2**16, drawn from
    the default generator of ``device``."""
    n = math.prod(shape)
    bits = torch.empty((n + 3) // 4, dtype=torch.int64, device=device).random_(-(1 << 63), None)
    threshold = round(p * _LEVELS) - _LEVELS // 2  # int16 draws are uniform on [-2**15, 2**15)
    return (bits.view(torch.int16)[:n] >= threshold).view(shape)


def kept_fraction(p: float) -> float:
    """1 - p as :func:`keep_mask` rounds p: the divisor of kept values."""
    return 1.0 - round(p * _LEVELS) / _LEVELS


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Inverted dropout of ``x`` with rate ``p`` (see the module docstring for the rounding on CPU)."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0:
        return F.dropout(x, p, training=True)
    return torch.where(keep_mask(x.shape, p, x.device), x * (1.0 / kept_fraction(p)), 0.0)


class Dropout(nn.Dropout):
    """``nn.Dropout`` (its checks, no parameters, so checkpoints are unchanged and ``isinstance`` still finds
    it) whose forward is :func:`dropout`."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)


def training_attention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None, dropout_p: float) -> Tensor:
    """softmax(q k^T / sqrt(d) + bias) v with dropout on the probabilities, for training on CPU.

    q, k, v: (B, h, L, d), in the autocast dtype if any; bias: additive, broadcastable to (B, h, L, L), or None.
    Returns (B, h, L, d) in v's dtype. The scale and the bias are applied inside the score matmul
    (``baddbmm``: at 32 x 12 x 128 x 128 one layer's forward and backward took 73 ms against 102 ms with a
    separate multiply and add), and the 1 / (1 - p) of dropout to the output, 4x smaller than the
    probabilities at d = L / 4, which is the same product.
    """
    B, h, L, d = q.shape
    with torch.autocast(q.device.type, enabled=False):
        qf, kt = q.float().reshape(B * h, L, d), k.float().reshape(B * h, L, d).transpose(1, 2)
        if bias is None:
            scores = torch.bmm(qf, kt).mul_(d**-0.5)  # (B h, L, L)
        else:  # scale and bias inside the matmul: one pass over the scores instead of three
            bias = bias.float().expand(B, h, -1, L).reshape(B * h, -1, L)  # (B h, 1 or L, L)
            scores = torch.baddbmm(bias, qf, kt, alpha=d**-0.5)
        probs = torch.softmax(scores, dim=-1).to(v.dtype).view(B, h, L, L)
        if dropout_p == 0.0:
            return torch.matmul(probs, v)
        if dropout_p >= 1.0:
            return torch.zeros_like(v)
        probs = torch.where(keep_mask(probs.shape, dropout_p, probs.device), probs, 0.0)
        return torch.matmul(probs, v) * (1.0 / kept_fraction(dropout_p))
