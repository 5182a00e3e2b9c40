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
def fill_mask(model, tokenizer, texts: list[str], top_k: int = 5, max_length: int | None = None
              ) -> list[list[MaskPrediction]]:
    """For each text, one :class:`MaskPrediction` per [MASK] token, in order (an empty list if it has none).

    Texts are truncated to ``max_length`` tokens (default: the model's positions); a [MASK] that truncation
    would drop is a BertkitError naming the text, not a silently shorter answer."""
    if not hasattr(model, "mlm"):
        raise BertkitError(f"this checkpoint ({type(model).__name__}) has no MLM head: fill-mask needs a "
                           "BertForPreTraining or BertForMaskedLM checkpoint")
    max_length = max_length or model.config.max_position_embeddings
    encs = tokenizer.encode_batch(texts, max_length=max_length, truncation=True)
    mask = tokenizer.mask_token_id
    for i, (text, enc) in enumerate(zip(texts, encs)):
        lost = tokenizer.encode_ids(text).count(mask) - enc.input_ids.count(mask)
        if lost:
            raise BertkitError(f"text {i + 1}: {lost} {tokenizer.mask_token} beyond the first {max_length} tokens "
                               "(what the model sees); shorten the text")
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
