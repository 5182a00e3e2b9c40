"""The pretraining objective: masked LM (+ next-sentence prediction), as loss sums and counts.

Devlin et al. 2018, section 3.1 and appendix A.1. The loss is mean MLM cross-entropy over the masked tokens
plus mean NSP cross-entropy over the sequences; here each is returned as a *sum* with the number of items it
covers, so that the loop divides by the global count over accumulation steps and processes (a per-micro-batch
mean is exact only when every micro-batch holds the same number of masked tokens).

The MLM head runs only on the masked positions (sparse MLM): the transform and the (H x V) decoder skip the
~85% of positions that carry no label. ``sparse=False`` scores every position first, as Hugging Face does;
the two give the same loss (tested).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bertkit.data.batch import Batch
from bertkit.tasks.losses import cross_entropy_sum


# The sparse MLM head runs on a multiple of this many rows (the masked positions, then position 0 repeated,
# whose logits are dropped): the number of masked tokens changes with every batch, and oneDNN keeps kernels
# and buffers per matmul shape, so an unpadded M grew a mini run's memory by ~15 MB a step (BENCHMARKS.md).
POSITION_MULTIPLE = 64


class PretrainingObjective:
    """``loss_and_metrics(model, batch)`` for BertForPreTraining (MLM + NSP) or BertForMaskedLM (MLM only).

    LOSSES lists the sums that make up the training loss; COUNTS maps every returned sum to the count key
    it is divided by (a key of :meth:`counts`).
    """

    def __init__(self, nsp: bool = True, sparse: bool = True):
        self.nsp = nsp
        self.sparse = sparse
        self.LOSSES = ("mlm_loss", "nsp_loss") if nsp else ("mlm_loss",)
        self.COUNTS = {"mlm_loss": "mlm", "mlm_accuracy": "mlm"}
        if nsp:
            self.COUNTS |= {"nsp_loss": "nsp", "nsp_accuracy": "nsp"}

    def counts(self, batch: Batch) -> dict[str, int]:
        """Items each loss covers, known before the forward pass: masked tokens and (for NSP) sequences."""
        out = {"mlm": int(batch.mlm_positions.numel())}
        if self.nsp:
            out["nsp"] = batch.size
        return out

    def loss_and_metrics(self, model: nn.Module, batch: Batch) -> dict[str, Tensor]:
        """Sums over the batch: mlm_loss, mlm_accuracy (correct predictions) and, with NSP, nsp_loss and
        nsp_accuracy. Losses carry gradients; accuracies are detached."""
        positions, m = batch.mlm_positions, batch.mlm_positions.numel()
        if self.sparse and m % POSITION_MULTIPLE:  # a few shapes, not one per batch (see POSITION_MULTIPLE)
            positions = torch.cat([positions, positions.new_zeros(POSITION_MULTIPLE - m % POSITION_MULTIPLE)])
        out = model(batch.input_ids, batch.attention_mask, batch.token_type_ids,
                    mlm_positions=positions if self.sparse else None)
        logits = out.prediction_logits if hasattr(out, "prediction_logits") else out.logits
        if not self.sparse:  # (B, L, V) -> (M, V)
            logits = logits.flatten(0, 1).index_select(0, batch.mlm_positions)
        logits = logits[:m]  # the padding rows (position 0 repeated) carry no loss
        loss, correct = cross_entropy_sum(logits, batch.mlm_labels)  # float32 inside, blockwise (losses.py)
        sums = {"mlm_loss": loss, "mlm_accuracy": correct}
        if self.nsp:
            nsp = out.seq_relationship_logits.float()
            sums["nsp_loss"] = F.cross_entropy(nsp, batch.next_sentence_label, reduction="sum")
            sums["nsp_accuracy"] = (nsp.detach().argmax(-1) == batch.next_sentence_label).sum()
        return sums


def dense_mlm_labels(batch: Batch) -> Tensor:
    """(B, L) labels in Hugging Face's convention (-100 where nothing is predicted), from a sparse batch."""
    labels = torch.full(batch.input_ids.shape, -100, dtype=torch.long, device=batch.input_ids.device)
    labels.view(-1)[batch.mlm_positions] = batch.mlm_labels
    return labels
