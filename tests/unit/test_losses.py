"""The blockwise cross-entropy (tasks/losses.py) against PyTorch's: loss, gradient and argmax accuracy."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bertkit.tasks.losses import ROWS, cross_entropy_sum


def _reference(logits, labels, scale):
    x = logits.detach().float().requires_grad_()
    loss = F.cross_entropy(x, labels, reduction="sum")
    (loss * scale).backward()
    return loss.detach(), (x.detach().argmax(-1) == labels).sum(), x.grad


@pytest.mark.parametrize("m", [0, 1, ROWS, 2 * ROWS + 5])
def test_float32_equals_cross_entropy(m):
    g = torch.Generator().manual_seed(m)
    logits = (torch.randn(m, 1000, generator=g) * 4).requires_grad_()
    labels = torch.randint(0, 1000, (m,), generator=g)
    labels[: m // 2] = logits.detach()[: m // 2].argmax(-1)  # some rows right, so the count is not trivially 0
    ref_loss, ref_correct, ref_grad = _reference(logits, labels, 0.37)
    loss, correct = cross_entropy_sum(logits, labels)
    (loss * 0.37).backward()
    assert loss.dtype == torch.float32 and not correct.requires_grad
    torch.testing.assert_close(loss.detach(), ref_loss, rtol=1e-6, atol=1e-5)
    assert int(correct) == int(ref_correct) == m // 2
    torch.testing.assert_close(logits.grad, ref_grad, rtol=0, atol=1e-7)


def test_bfloat16_within_one_rounding_of_float32():
    g = torch.Generator().manual_seed(1)
    logits = (torch.randn(77, 3000, generator=g) * 4).bfloat16().requires_grad_()
    labels = torch.randint(0, 3000, (77,), generator=g)
    ref_loss, ref_correct, ref_grad = _reference(logits, labels, 1 / 77)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # as the loop calls it
        loss, correct = cross_entropy_sum(logits, labels)
    (loss / 77).backward()
    assert loss.dtype == torch.float32 and logits.grad.dtype == torch.bfloat16
    torch.testing.assert_close(loss.detach(), ref_loss, rtol=1e-6, atol=1e-4)
    assert int(correct) == int(ref_correct)
    # the reference's float32 gradient, rounded once to bf16, is what the backward writes (up to one ulp)
    torch.testing.assert_close(logits.grad.float(), ref_grad.bfloat16().float(), rtol=2**-7, atol=1e-9)


def test_ties_count_like_argmax():
    logits = torch.zeros(3, 5)  # row 2 stays all zeros: its argmax is 0
    logits[0, [1, 3]] = 2.0  # argmax is the first maximum: 1
    logits[1, [1, 3]] = 2.0
    labels = torch.tensor([1, 3, 0])  # right, wrong (the later of two tied maxima), right
    _, correct = cross_entropy_sum(logits, labels)
    assert int(correct) == int((logits.argmax(-1) == labels).sum()) == 2


def test_float64_gradcheck():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(ROWS + 3, 7, dtype=torch.float64, generator=g).requires_grad_()
    labels = torch.randint(0, 7, (ROWS + 3,), generator=g)
    assert torch.autograd.gradcheck(lambda x: cross_entropy_sum(x, labels)[0], (logits,))
