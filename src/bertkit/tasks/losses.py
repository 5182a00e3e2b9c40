"""Cross-entropy over a wide output (the MLM decoder's vocabulary), summed, with its accuracy, in one pass.

``F.cross_entropy`` on the (M, V) logits of a bf16 step costs more memory traffic than arithmetic on CPU: the
logits are copied to float32, log-softmaxed, read again by ``argmax`` for the accuracy; in the backward
``nll_loss`` fills an (M, V) float32 zero tensor, ``log_softmax``'s backward reads it and its output, and the
result is copied back to bf16 (about 40 bytes moved per logit). Here the rows are taken a few at a time, so
each block's float32 copy stays in cache: the forward reads each logit once (log-softmax, the label's term
and the row maximum on the block), the backward reads it once and writes its gradient once (softmax minus
the one-hot label, times the incoming gradient, in the logits' dtype). On a bert-mini step's 576 x 30,522
logits (2-core Xeon with AMX) forward and backward took 42-61 ms against 121-124 ms in bf16 and 56-68 against
91-97 ms in float32, and the whole bf16 step went from 4.5x to 5.3x transformers' float32 step (BENCHMARKS.md,
"Pretraining step"), with the same loss and gradients (float32: equal to rounding; bf16: within one rounding).

The accuracy is that of ``argmax``: ``max(dim).indices`` returns the first maximal index, as ``argmax`` does.
On other devices (CUDA) PyTorch's fused kernels are used as they are.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

ROWS = 16  # rows of logits per block: 16 x 30,522 float32 is 1.95 MB, within a core's L2 cache here


def cross_entropy_sum(logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Summed cross-entropy of (M, V) ``logits`` against (M,) class ``labels`` (every label a valid class), and
    the number of rows whose argmax is the label. The sum is float32 (float64 for float64 logits) and carries the
    gradient; the count is a detached long scalar."""
    if logits.device.type != "cpu":
        loss = F.cross_entropy(logits.float(), labels, reduction="sum")
        return loss, (logits.detach().argmax(-1) == labels).sum()
    return _BlockwiseCrossEntropy.apply(logits, labels)


class _BlockwiseCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        wide = torch.promote_types(logits.dtype, torch.float32)  # float32, or float64 for float64 logits
        loss = torch.zeros((), dtype=wide, device=logits.device)
        correct = torch.zeros((), dtype=torch.long, device=logits.device)
        with torch.autocast(logits.device.type, enabled=False):
            for block, gold in zip(logits.split(ROWS), labels.split(ROWS)):
                x = block.to(wide)
                loss -= torch.log_softmax(x, -1).gather(1, gold[:, None]).sum()
                correct += (x.max(-1).indices == gold).sum()
        ctx.save_for_backward(logits, labels)
        ctx.mark_non_differentiable(correct)
        return loss, correct

    @staticmethod
    def backward(ctx, g: Tensor, _grad_correct: Tensor) -> tuple[Tensor, None]:
        logits, labels = ctx.saved_tensors
        grad = torch.empty_like(logits)
        with torch.autocast(logits.device.type, enabled=False):
            for block, gold, out in zip(logits.split(ROWS), labels.split(ROWS), grad.split(ROWS)):
                p = torch.softmax(block.to(g.dtype), -1).mul_(g)  # d(loss)/d(logits) = (softmax - one-hot) * g
                p[torch.arange(len(gold), device=p.device), gold] -= g
                out.copy_(p)
        return grad, None
