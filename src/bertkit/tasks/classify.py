"""Sequence-level tasks: classification of single texts and pairs, regression, multiple choice (Devlin et al.
2018, section 4.1 and 4.4): the loss on the one added layer's logits, and logits -> predictions.

Losses are sums with their counts (examples), so the loop divides by the global count (STYLE.md section 3.6).
Multiple choice is classification over (B, C) candidate scores.
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import Tensor, nn

from bertkit.data.batch import Batch


class ClassificationObjective:
    """Cross-entropy on logits (B, K) (classification) or (B, C) (multiple choice) against class ids (B,)."""

    LOSSES = ("ce_loss",)
    COUNTS = {"ce_loss": "examples", "accuracy": "examples"}

    def counts(self, batch: Batch) -> dict[str, int]:
        return {"examples": batch.size}

    def loss_and_metrics(self, model: nn.Module, batch: Batch) -> dict[str, Tensor]:
        logits = model(batch.input_ids, batch.attention_mask, batch.token_type_ids).logits.float()
        return {"ce_loss": F.cross_entropy(logits, batch.labels, reduction="sum"),
                "accuracy": (logits.detach().argmax(-1) == batch.labels).sum()}


class RegressionObjective:
    """Mean squared error of the single output (B, 1) against float scores (B,)."""

    LOSSES = ("mse_loss",)
    COUNTS = {"mse_loss": "examples"}

    def counts(self, batch: Batch) -> dict[str, int]:
        return {"examples": batch.size}

    def loss_and_metrics(self, model: nn.Module, batch: Batch) -> dict[str, Tensor]:
        pred = model(batch.input_ids, batch.attention_mask, batch.token_type_ids).logits.float().squeeze(-1)
        return {"mse_loss": F.mse_loss(pred, batch.labels.float(), reduction="sum")}


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K) scores, in float64."""
    z = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def decode_classes(logits: list[np.ndarray], labels: list[str]) -> list[dict]:
    """Each (K,) logit row -> {"label": the argmax label, "probabilities": {label: p}}."""
    out = []
    for row in logits:
        p = softmax(row[None])[0]
        out.append({"label": labels[int(p.argmax())], "probabilities": {lab: float(x) for lab, x in zip(labels, p)}})
    return out


def decode_choices(logits: list[np.ndarray]) -> list[dict]:
    """Each (C,) score row -> {"label": the argmax index, "scores": C softmax probabilities}."""
    return [{"label": int(row.argmax()), "scores": softmax(row[None])[0].tolist()} for row in logits]


def decode_scores(logits: list[np.ndarray]) -> list[dict]:
    """Each (1,) output -> {"score": float}."""
    return [{"score": float(row.reshape(-1)[0])} for row in logits]
