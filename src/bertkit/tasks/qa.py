"""Extractive question answering (SQuAD v1.1; Devlin et al. 2018, section 4.2): start/end losses, and the
n-best span decoding over a context's windows (Google's run_squad.py / HF's run_qa.py postprocessing).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch.nn.functional as F
from torch import Tensor, nn

from bertkit.data.batch import Batch


class SpanObjective:
    """(CE(start) + CE(end)) / 2 per window, as HF, but over the window's real tokens only: HF's softmax also
    covers the padding, so a window's loss there depends on the batch it is padded in, and on whether the
    batch ran packed (pad positions are zeros then). Positions (B, 2) of the answer's first and last token,
    (0, 0) (the [CLS]) for a window that does not hold the answer."""

    LOSSES = ("span_loss",)
    COUNTS = {"span_loss": "windows", "start_accuracy": "windows", "end_accuracy": "windows"}

    def counts(self, batch: Batch) -> dict[str, int]:
        return {"windows": batch.size}

    def loss_and_metrics(self, model: nn.Module, batch: Batch) -> dict[str, Tensor]:
        out = model(batch.input_ids, batch.attention_mask, batch.token_type_ids)
        pad = ~batch.attention_mask.bool()  # (B, L): padding takes no probability (HF's loss counts it)
        start, end = (t.float().masked_fill(pad, -1e9) for t in (out.start_logits, out.end_logits))  # (B, L)
        s_gold, e_gold = batch.labels[:, 0], batch.labels[:, 1]
        loss = (F.cross_entropy(start, s_gold, reduction="sum") + F.cross_entropy(end, e_gold, reduction="sum")) / 2
        return {"span_loss": loss, "start_accuracy": (start.detach().argmax(-1) == s_gold).sum(),
                "end_accuracy": (end.detach().argmax(-1) == e_gold).sum()}


def best_spans(outputs: list[np.ndarray], features: list, contexts: list[str], *, n_best: int = 20,
               max_answer_length: int = 30) -> list[dict]:
    """The best answer of each example over all its windows.

    outputs: per window a (2, L) array of start and end logits; features: the windows (``example`` index and
    ``offsets``, None outside the context); contexts: each example's context.
    Candidates are the ``n_best`` highest starts x ends inside the context with start <= end and at most
    ``max_answer_length`` tokens; the score is start + end logit. Returns per example {"answer", "start",
    "end", "score"} (character offsets; an empty answer where no window has a valid span).
    """
    by_example: dict[int, list[int]] = defaultdict(list)
    for i, f in enumerate(features):
        by_example[f.example].append(i)
    out = []
    for n, context in enumerate(contexts):
        best = None
        for i in by_example.get(n, []):
            start_logits, end_logits = outputs[i][0], outputs[i][1]
            offs = features[i].offsets
            inside = np.array([o is not None for o in offs[:len(start_logits)]])
            s_cand = [j for j in np.argsort(-start_logits)[: n_best * 4] if inside[j]][:n_best]
            e_cand = [j for j in np.argsort(-end_logits)[: n_best * 4] if inside[j]][:n_best]
            for s in s_cand:
                for e in e_cand:
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    score = float(start_logits[s] + end_logits[e])
                    if best is None or score > best[0]:
                        best = (score, offs[s][0], offs[e][1])
        if best is None:
            out.append({"answer": "", "start": 0, "end": 0, "score": float("-inf")})
        else:
            score, a, b = best
            out.append({"answer": context[a:b], "start": a, "end": b, "score": score})
    return out

