"""The CPU dropout and training attention of bertkit.model.dropout: the rate, independence, the inverted
scaling, and training attention equal to PyTorch's scaled_dot_product_attention (values and gradients)."""

import pytest
import torch
import torch.nn.functional as F

from bertkit.model.dropout import Dropout, dropout, keep_mask, kept_fraction, training_attention


@pytest.mark.parametrize("p", [0.1, 0.5, 0.03])
def test_keep_mask_rate_and_independence(p):
    torch.manual_seed(0)
    n = 1_000_003  # not a multiple of 4: the last 64-bit draw is only partly used
    keep = keep_mask((n,), p)
    q = kept_fraction(p)
    assert abs(q - (1 - p)) <= 2**-17
    sigma = (q * (1 - q) / n) ** 0.5
    assert abs(keep.float().mean().item() - q) < 5 * sigma
    # neighbours come from the same 64-bit draw (4 per draw) or the next: they must be independent
    both = (keep[:-1] & keep[1:]).float().mean().item()
    assert abs(both - q * q) < 5 * (q * q * (1 - q * q) / n) ** 0.5
    for lane in range(4):  # each 16-bit lane of a draw has the same rate (no biased bit, e.g. a sign bit)
        lane_rate = keep[lane::4].float().mean().item()
        assert abs(lane_rate - q) < 5 * sigma * 2


def test_dropout_is_inverted_and_reproducible():
    x = torch.randn(64, 128, 96)
    torch.manual_seed(3)
    y = dropout(x, 0.1)
    torch.manual_seed(3)
    assert torch.equal(dropout(x, 0.1), y)  # the default generator's state decides the mask
    kept = y != 0
    assert torch.allclose(y[kept], x[kept] / kept_fraction(0.1))
    assert abs(kept.float().mean().item() - kept_fraction(0.1)) < 0.003
    assert dropout(x, 0.1, training=False) is x and dropout(x, 0.0) is x
    assert torch.count_nonzero(dropout(x, 1.0)) == 0
    m = Dropout(0.2)
    assert m.eval()(x) is x and not torch.equal(m.train()(x), x)
    with pytest.raises(ValueError, match="between 0 and 1"):
        Dropout(1.5)


def _qkv(dtype=torch.float32, B=3, h=4, L=37, d=8):
    g = torch.Generator().manual_seed(1)
    return [torch.randn(B, h, L, d, generator=g, dtype=dtype).requires_grad_() for _ in range(3)]


def _bias(B=3, L=37):
    mask = torch.ones(B, L)
    mask[1, 30:] = 0
    mask[2, 5:] = 0
    return torch.zeros(B, 1, 1, L).masked_fill(mask[:, None, None, :] == 0, torch.finfo(torch.float32).min)


def test_training_attention_without_dropout_equals_sdpa():
    q, k, v = _qkv()
    bias = _bias()
    ours = training_attention(q, k, v, bias, 0.0)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    assert (ours - theirs).abs().max() < 1e-6
    g = torch.randn_like(ours)
    grads = torch.autograd.grad(ours, (q, k, v), g)
    ref = torch.autograd.grad(theirs, (q, k, v), g)
    for a, b in zip(grads, ref):
        assert (a - b).abs().max() < 1e-5


def test_training_attention_dropout_is_the_math_with_that_mask():
    q, k, v = _qkv()
    bias = _bias()
    torch.manual_seed(7)
    ours = training_attention(q, k, v, bias, 0.1)
    torch.manual_seed(7)
    keep = keep_mask((3, 4, 37, 37), 0.1)
    probs = torch.softmax(q @ k.transpose(-1, -2) / 8**0.5 + bias, dim=-1)
    expected = (probs * keep / kept_fraction(0.1)) @ v
    assert (ours - expected).abs().max() < 1e-6


def test_training_attention_under_bf16_autocast_is_as_precise_as_sdpa():
    q, k, v = _qkv(torch.bfloat16, B=4, h=6, L=128, d=32)
    exact = torch.softmax(q.float() @ k.float().transpose(-1, -2) / 32**0.5, -1) @ v.float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = training_attention(q, k, v, None, 0.0)
        theirs = F.scaled_dot_product_attention(q, k, v)
    assert ours.dtype == torch.bfloat16
    rms = lambda t: (t.float() - exact).pow(2).mean().sqrt().item()
    assert rms(ours) <= 1.5 * rms(theirs) + 1e-6
