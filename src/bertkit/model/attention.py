"""Attention over a padded batch or over packed tokens, chosen by one metadata object.

The encoder layers work on any leading shape: a padded batch is (B, L, H), packed tokens (the real tokens of
B sequences, one after another, STYLE.md §3.8) are (T, H). What tells the layers apart is only what
:func:`attention` is given:

- :class:`Padded`: an additive (B, 1, 1, L) mask bias or None. The reference path, numerically Hugging Face's.
- :class:`Packed`: cu_seqlens, the host-side lengths and the positions of the tokens in the padded batch, plus a
  route, how attention meets the sequences' boundaries:

  - ``loop``: one ``scaled_dot_product_attention`` (or, in training on CPU, dropout.py's written-out
    attention) per run of sequences of one length (packed tokens are ordered by length), on exactly their
    tokens: no padding and no mask at all;
  - ``repad``: q, k, v scattered back to (B, L, H) for attention alone, then gathered again: attention as the
    padded path does it, everything else (projections, FFN, LayerNorm) on real tokens only;
  - ``varlen``: PyTorch's variable-length flash kernel (``torch.nn.attention.varlen``), CUDA only.

Which route is fastest depends on the device, the dtype and the lengths; :func:`choose_route` holds the rule
that benchmarks/packed.py measured. Shapes: B batch, L padded length, T real tokens, H hidden, h heads,
d = H / h.
"""

from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F
from torch import Tensor

from bertkit.model.dropout import training_attention
from bertkit.model.padding import Packed, Padded


AttentionMeta = Padded | Packed  # what the layers pass to attention()


def attention(q: Tensor, k: Tensor, v: Tensor, meta: AttentionMeta, num_heads: int, dropout_p: float,
              training: bool) -> Tensor:
    """Multi-head scaled dot-product attention with dropout on the probabilities in training.

    q, k, v: (B, L, H) with :class:`Padded`, (T, H) with :class:`Packed`; returns the same shape (heads merged,
    before the output projection).
    """
    p = dropout_p if training else 0.0
    if isinstance(meta, Padded):
        return _padded(q, k, v, meta.bias, num_heads, p, training)
    if meta.route == "repad":
        q, k, v = (meta.scatter(t) for t in (q, k, v))  # (T, H) -> (B, L, H)
        return meta.gather(_padded(q, k, v, meta.bias, num_heads, p, training))
    if meta.route == "varlen":
        return _varlen(q, k, v, meta, num_heads, p)
    H = q.shape[-1]
    outs, start = [], 0
    for length, count in meta.runs:  # (count, length, H) each: sequences of one length, one after another
        if length:
            end = start + length * count
            qs, ks, vs = (t[start:end].view(count, length, H) for t in (q, k, v))
            outs.append(_padded(qs, ks, vs, None, num_heads, p, training).view(end - start, H))
            start = end
    return torch.cat(outs) if outs else q.new_zeros(q.shape)


def _heads(x: Tensor, num_heads: int) -> Tensor:
    B, L, H = x.shape
    return x.view(B, L, num_heads, H // num_heads).transpose(1, 2)  # (B, L, H) -> (B, h, L, d)


def _padded(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None, num_heads: int, p: float,
            training: bool) -> Tensor:
    """(B, L, H) each -> (B, L, H). Training on CPU takes dropout.py's written-out attention (faster there,
    same float32 softmax); everything else PyTorch's fused kernels."""
    B, L, H = q.shape
    q, k, v = (_heads(t, num_heads) for t in (q, k, v))
    if training and q.device.type == "cpu":
        y = training_attention(q, k, v, bias, p)
    else:
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p)
    return y.transpose(1, 2).reshape(B, L, H)  # (B, h, L, d) -> (B, L, H)


def _varlen(q: Tensor, k: Tensor, v: Tensor, meta: Packed, num_heads: int, p: float) -> Tensor:
    """PyTorch's variable-length flash attention on (T, h, d); CUDA only, no dropout on the probabilities."""
    from torch.nn.attention.varlen import varlen_attn

    if p > 0.0:
        raise ValueError("the varlen attention route has no attention-probability dropout; use 'loop' or 'repad'")
    if q.dtype not in HALF:
        raise ValueError(f"the varlen attention route (flash attention) runs in float16 or bfloat16, not {q.dtype}; "
                         "use 'loop' or 'repad'")
    T, H = q.shape
    q, k, v = (t.view(T, num_heads, H // num_heads) for t in (q, k, v))  # (T, H) -> (T, h, d)
    y = varlen_attn(q, k, v, meta.cu_seqlens, meta.cu_seqlens, meta.max_len, meta.max_len)
    return y.reshape(T, H)


HALF = (torch.float16, torch.bfloat16)  # the dtypes flash attention (the varlen route) runs in


def varlen_available(device: torch.device) -> bool:
    """Whether the ``varlen`` route can run on ``device``: a CUDA GPU of compute capability 8.0 or newer (flash
    attention's requirement) and a PyTorch that ships the kernel."""
    if device.type != "cuda" or torch.cuda.get_device_capability(device) < (8, 0):
        return False
    try:
        return importlib.util.find_spec("torch.nn.attention.varlen") is not None
    except ImportError:
        return False


def choose_route(attention_mask: Tensor, dtype: torch.dtype, dropout: bool) -> str | None:
    """The fastest way to run a padded batch, as benchmarks/packed.py measured it: None (padded) or a route.

    attention_mask: (B, L); dtype: the compute dtype (the autocast dtype if on); dropout: whether attention
    probabilities are dropped (training). The rule, from MiniLM on two Intel Xeons, 2 cores, with and without
    native bf16 (BENCHMARKS.md "Packed encoder (CPU)"):

    - without gradients on CPU, the loop (one attention call per run of equal lengths, no mask) whenever there
      is padding at all: on the CPU with AMX it beat ``repad`` and the padded path at every padding measured
      (1.07x padded at 8% in float32, 1.27x against repad's 1.16x at 24%, 3.22x against 2.47x at 71%; bf16 1.02x,
      1.18x against 1.00x, 1.98x against 1.40x), and embed's length-sorted batches (2.4% padding) ran 2% faster;
    - with gradients, below 10% padding the gathers cost about what they save, so the batch stays padded, and
      above it ``repad`` (1.86x against the loop's 1.57x at 71% padding in float32, 2.52x against 2.08x under
      bf16 autocast; the loop's many small autograd nodes cost more than the padding they skip);
    - on CUDA, from 10% padding, the varlen kernel where it can run (half precision, no dropout), else ``repad``.
    """
    B, L = attention_mask.shape
    padding = 1.0 - int(attention_mask.sum()) / max(B * L, 1)
    if padding == 0.0:
        return None
    if attention_mask.device.type == "cpu" and not torch.is_grad_enabled():
        return "loop"
    if padding < 0.1:
        return None
    if attention_mask.device.type == "cuda":
        fits = dtype in HALF and not dropout and varlen_available(attention_mask.device)
        return "varlen" if fits else "repad"
    return "repad" if torch.is_grad_enabled() else "loop"
