"""Fill-mask: the top-k tokens, with probabilities, for every [MASK] of a text (the MLM head at inference).

Works with any checkpoint that carries the MLM head (BertForPreTraining or BertForMaskedLM); the head is run
only on the [MASK] positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bertkit.data.batch import pad_encodings
from bertkit.utils.errors import BertkitError


@dataclass
class MaskPrediction:
    """Candidates for one [MASK]: ``position`` is its token index in the encoded text."""

    position: int
    tokens: list[str]
    ids: list[int]
    probabilities: list[float]


@torch.inference_mode()
def fill_mask(model, tokenizer, texts: list[str], top_k: int = 5, max_length: int = 512
              ) -> list[list[MaskPrediction]]:
    """For each text, one :class:`MaskPrediction` per [MASK] token, in order (an empty list if it has none)."""
    if not hasattr(model, "mlm"):
        raise BertkitError(f"this checkpoint ({type(model).__name__}) has no MLM head: fill-mask needs a "
                           "BertForPreTraining or BertForMaskedLM checkpoint")
    encs = tokenizer.encode_batch(texts, max_length=max_length, truncation=True)
    batch = pad_encodings(encs, tokenizer.pad_token_id).to(next(model.parameters()).device)
    flat = torch.nonzero(batch.input_ids.flatten() == tokenizer.mask_token_id).flatten()  # (M,)
    out: list[list[MaskPrediction]] = [[] for _ in texts]
    if not len(flat):
        return out
    model.eval()
    res = model(batch.input_ids, batch.attention_mask, batch.token_type_ids, mlm_positions=flat)
    logits = res.prediction_logits if hasattr(res, "prediction_logits") else res.logits  # (M, V)
    probs = torch.softmax(logits.float(), dim=-1)  # (M, V)
    p, ids = probs.topk(min(top_k, probs.shape[-1]), dim=-1)
    L = batch.input_ids.shape[1]
    for m, pos in enumerate(flat.tolist()):
        row, col = divmod(pos, L)
        out[row].append(MaskPrediction(col, tokenizer.convert_ids_to_tokens(ids[m].tolist()), ids[m].tolist(),
                                       p[m].tolist()))
    return out
