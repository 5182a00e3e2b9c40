"""Token classification (NER; Devlin et al. 2018, section 5.3): the loss on labelled first sub-tokens, and
logits -> one tag per word -> entities with character spans (conlleval's chunk rules, any tag scheme).
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import Tensor, nn

from bertkit.data.batch import Batch
from bertkit.data.finetune import IGNORE
from bertkit.tasks.metrics import entity_spans

OUTSIDE = "O"


class TokenClassificationObjective:
    """Cross-entropy over the positions whose label is not IGNORE (each word's first sub-token)."""

    LOSSES = ("ce_loss",)
    COUNTS = {"ce_loss": "tokens", "accuracy": "tokens"}

    def counts(self, batch: Batch) -> dict[str, int]:
        return {"tokens": int((batch.labels != IGNORE).sum())}

    def loss_and_metrics(self, model: nn.Module, batch: Batch) -> dict[str, Tensor]:
        logits = model(batch.input_ids, batch.attention_mask, batch.token_type_ids).logits  # (B, L, K)
        keep = batch.labels != IGNORE
        scores, gold = logits[keep].float(), batch.labels[keep]  # (N, K), (N,)
        return {"ce_loss": F.cross_entropy(scores, gold, reduction="sum"),
                "accuracy": (scores.detach().argmax(-1) == gold).sum()}


def word_tags(logits: np.ndarray, word_starts: list[int], num_words: int, labels: list[str]) -> list[str]:
    """Tags of all ``num_words`` words from one sentence's (L, K) logits: the argmax at each word's first
    sub-token; words cut by truncation or without tokens get ``O``."""
    tags = [OUTSIDE] * num_words
    for w, pos in enumerate(word_starts):
        if pos >= 0:
            tags[w] = labels[int(logits[pos].argmax())]
    return tags


def entities(tags: list[str], text: str, spans: list[tuple[int, int]]) -> list[dict]:
    """Entities of a tagged sentence as {"type", "text", "start", "end"} (character offsets into ``text``)."""
    out = []
    for kind, s, e in entity_spans(tags):
        start, end = spans[s][0], spans[e - 1][1]
        out.append({"type": kind, "text": text[start:end], "start": start, "end": end})
    return out
