"""Outputs of bertkit against transformers (the oracle), fp32, eval mode, |diff| <= 1e-5.

Random Hugging Face models (weights noised so that zero biases and unit LayerNorms cannot hide a swapped key)
are saved by transformers' own ``save_pretrained`` and loaded with bertkit's ``load_pretrained``, the code
users run. Inputs have padding; transformers computes every position (pad queries attend to the real keys
only), so with the padded path (packing "padded") all positions are compared, hidden states of every layer
included; each packed route (which leaves zeros at pad positions) is compared at the real positions.
"""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers")

from bertparity import PACKINGS, random_batch, record_diff  # noqa: E402

from bertkit.convert import load_pretrained  # noqa: E402
from bertkit.data.batch import Batch  # noqa: E402
from bertkit.model import BertForMaskedLM, BertForPreTraining, BertModel, set_packing  # noqa: E402
from bertkit.tasks.pretraining import PretrainingObjective  # noqa: E402

ATOL = 1e-5

SHAPES = {
    "odd": dict(vocab_size=99, hidden_size=36, num_attention_heads=3, intermediate_size=37, num_hidden_layers=3,
                max_position_embeddings=40),
    "gelu_new": dict(vocab_size=99, hidden_size=48, num_attention_heads=4, intermediate_size=50, num_hidden_layers=2,
                     max_position_embeddings=24, hidden_act="gelu_new"),
    "one_type": dict(vocab_size=61, hidden_size=20, num_attention_heads=2, intermediate_size=30, num_hidden_layers=2,
                     max_position_embeddings=16, type_vocab_size=1, layer_norm_eps=1e-5, hidden_act="relu"),
}


@pytest.mark.parametrize("packing", PACKINGS)
@pytest.mark.parametrize("shape", SHAPES)
def test_pretraining_model(hf_checkpoint, shape, packing):
    cfg = SHAPES[shape]
    hf, d = hf_checkpoint("BertForPreTraining", seed=1, **cfg)
    model, _ = load_pretrained(d)
    assert type(model) is BertForPreTraining and not model.training
    set_packing(model, packing)
    ids, mask, types = random_batch(cfg["vocab_size"], cfg.get("type_vocab_size", 2))
    real = None if packing == "padded" else mask
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
        got = model(ids, mask, types, output_hidden_states=True)
    record_diff(f"{shape} {packing}: MLM logits", got.prediction_logits, want.prediction_logits, ATOL, real)
    record_diff(f"{shape} {packing}: NSP logits", got.seq_relationship_logits, want.seq_relationship_logits, ATOL)
    assert len(got.hidden_states) == len(want.hidden_states) == cfg["num_hidden_layers"] + 1
    for i, (a, b) in enumerate(zip(got.hidden_states, want.hidden_states)):
        record_diff(f"{shape} {packing}: hidden_states[{i}]", a, b, ATOL, real)
    # the logits are not degenerate (so the comparison above could fail)
    assert want.prediction_logits.std() > 0.1 and want.seq_relationship_logits.std() > 0.01


@pytest.mark.parametrize("packing", PACKINGS)
@pytest.mark.parametrize("shape", SHAPES)
def test_encoder(hf_checkpoint, shape, packing):
    """A checkpoint saved by HF BertModel (keys without ``bert.``) loads as BertModel with the pooler."""
    cfg = SHAPES[shape]
    hf, d = hf_checkpoint("BertModel", seed=2, **cfg)
    model, _ = load_pretrained(d)
    assert type(model) is BertModel
    set_packing(model, packing)
    ids, mask, types = random_batch(cfg["vocab_size"], cfg.get("type_vocab_size", 2), seed=3)
    real = None if packing == "padded" else mask
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
        got = model(ids, mask, types, output_hidden_states=True)
    record_diff(f"{shape} {packing}: last_hidden_state", got.last_hidden_state, want.last_hidden_state, ATOL, real)
    record_diff(f"{shape} {packing}: pooler_output", got.pooler_output, want.pooler_output, ATOL)
    for i, (a, b) in enumerate(zip(got.hidden_states, want.hidden_states)):
        record_diff(f"{shape} {packing}: hidden_states[{i}]", a, b, ATOL, real)
    # defaults: no token types, no mask (HF also defaults to zeros / all tokens)
    with torch.no_grad():
        record_diff(f"{shape}: last_hidden_state (defaults)", model(ids).last_hidden_state,
                    hf(input_ids=ids).last_hidden_state, ATOL)


@pytest.mark.parametrize("packing", PACKINGS)
def test_masked_lm(hf_checkpoint, packing):
    cfg = SHAPES["odd"]
    hf, d = hf_checkpoint("BertForMaskedLM", seed=4, **cfg)
    model, _ = load_pretrained(d)
    assert type(model) is BertForMaskedLM and model.bert.pooler is None
    set_packing(model, packing)
    ids, mask, types = random_batch(cfg["vocab_size"], seed=5)
    chosen = (torch.rand(ids.shape, generator=torch.Generator().manual_seed(0)) < 0.3) & mask.bool()  # real tokens
    labels = torch.where(chosen, ids, -100)
    labels[0, 0] = 7
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels)
        got = model(ids, mask, types)
        batch = _sparse_batch(ids, mask, types, labels)
        obj = PretrainingObjective(nsp=False)
        loss = obj.loss_and_metrics(model, batch)["mlm_loss"] / obj.counts(batch)["mlm"]
    record_diff(f"odd {packing}: BertForMaskedLM logits", got.logits, want.logits, ATOL,
                None if packing == "padded" else mask)
    record_diff(f"odd {packing}: BertForMaskedLM loss (sparse MLM objective)", loss, want.loss, ATOL)


def _sparse_batch(ids, mask, types, labels, nsp=None) -> Batch:
    """Hugging Face's (B, L) labels (-100 = none) as bertkit's explicit positions and labels."""
    pos = torch.nonzero(labels.flatten() != -100).flatten()
    return Batch(ids, mask, types, mlm_positions=pos, mlm_labels=labels.flatten()[pos], next_sentence_label=nsp)


def test_pretraining_loss(hf_checkpoint):
    cfg = SHAPES["odd"]
    hf, d = hf_checkpoint("BertForPreTraining", seed=6, **cfg)
    model, _ = load_pretrained(d)
    ids, mask, types = random_batch(cfg["vocab_size"], seed=7)
    labels = torch.full_like(ids, -100)
    labels[0, 3], labels[1, 1], labels[2, 4] = 11, 12, 13
    nsp = torch.tensor([0, 1, 1, 0])
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels, next_sentence_label=nsp)
        batch = _sparse_batch(ids, mask, types, labels, nsp)
        obj = PretrainingObjective()
        sums, counts = obj.loss_and_metrics(model, batch), obj.counts(batch)
        loss = sums["mlm_loss"] / counts["mlm"] + sums["nsp_loss"] / counts["nsp"]
    record_diff("odd: pretraining loss (sparse MLM + NSP objective)", loss, want.loss, ATOL)


def test_bf16_load_is_close(hf_checkpoint):
    cfg = SHAPES["odd"]
    hf, d = hf_checkpoint("BertForPreTraining", seed=8, **cfg)
    model, _ = load_pretrained(d, dtype=torch.bfloat16)
    assert all(p.dtype == torch.bfloat16 for p in model.parameters())
    ids, mask, types = random_batch(cfg["vocab_size"], seed=9)
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask, token_type_ids=types)
        got = model(ids, mask, types)
    assert got.prediction_logits.dtype == torch.bfloat16
    scale = want.prediction_logits.abs().max().item()
    record_diff("odd: MLM logits bf16 (relative to max |logit|)", got.prediction_logits / scale,
                want.prediction_logits / scale, 0.05, mask)
