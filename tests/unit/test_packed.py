"""The packed encoder path equals the padded reference (STYLE.md §3.8): every CPU attention route, every head,
inference and training (outputs, losses and gradients), the metadata's gather/scatter, an empty row, an
all-padding row under bf16, and the rule that picks a route.

The parity of each route with transformers is in tests/parity (test_model_parity, test_task_heads,
test_minilm); here the padded path is the oracle, on odd sizes so that a wrong reshape shows.
"""

from __future__ import annotations

import pytest
import torch

from bertkit.config import BertConfig
from bertkit.model import (BertForMultipleChoice, BertForPreTraining, BertForQuestionAnswering,
                           BertForTokenClassification, BertModel, set_packing)
from bertkit.model.attention import choose_route
from bertkit.model.padding import Packed, mask_to_bias

CFG = dict(vocab_size=99, hidden_size=36, num_hidden_layers=3, num_attention_heads=3, intermediate_size=37,
           max_position_embeddings=40)
ROUTES = ("loop", "repad")  # the CPU routes (varlen needs CUDA)


def _batch(lengths=(13, 1, 7, 0, 4, 13), L=13, seed=0):
    """(ids, mask, types) (B, L), right-padded to ``lengths``: a full row, a one-token row, an empty row."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    mask = (torch.arange(L)[None] < lengths[:, None]).long()
    ids = torch.randint(1, CFG["vocab_size"], (len(lengths), L), generator=g) * mask
    types = torch.randint(0, 2, ids.shape, generator=g) * mask
    return ids, mask, types


def _model(cls=BertModel, dropout=0.0, seed=0, **extra):
    torch.manual_seed(seed)
    cfg = BertConfig(**CFG, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, **extra)
    model = cls(cfg)
    with torch.no_grad():  # noise, so that zero biases and unit LayerNorms hide nothing
        for p in model.parameters():
            p.add_(torch.randn(p.shape) * 0.05)
    return model


def test_gather_scatter_round_trip():
    B, L = 4, 9
    lengths = torch.tensor([9, 3, 1, 3])
    mask = (torch.arange(L)[None] < lengths[:, None]).long()
    meta = Packed.from_mask(mask, "loop", torch.float32)
    # sequences packed shortest first, ties in batch order: rows 2, 1, 3, 0
    assert meta.cu_seqlens.dtype == torch.int32 and meta.cu_seqlens.tolist() == [0, 1, 4, 7, 16]
    assert meta.seqlens == (1, 3, 3, 9) and meta.max_len == 9 and meta.bias is None
    assert meta.runs == ((1, 1), (3, 2), (9, 1))
    hidden = torch.randn(B, L, 5)
    tokens = meta.gather(hidden)
    assert tokens.shape == (16, 5)
    for rows, (a, b) in zip(([2], [1], [3], [0]), [(0, 1), (1, 4), (4, 7), (7, 16)]):
        torch.testing.assert_close(tokens[a:b], hidden[rows[0], : b - a], rtol=0, atol=0)
    torch.testing.assert_close(meta.scatter(tokens), hidden * mask[..., None], rtol=0, atol=0)
    ids = torch.randint(0, 99, (B, L))  # any trailing shape, ids (B, L) too
    assert torch.equal(meta.scatter(meta.gather(ids)), ids * mask)
    assert Packed.from_mask(mask, "repad", torch.float32).bias.shape == (B, 1, 1, L)
    with pytest.raises(ValueError, match="unknown attention route"):
        Packed.from_mask(mask, "nested", torch.float32)


@pytest.mark.parametrize("route", ROUTES)
def test_inference_equals_padded(route):
    model = _model().eval()
    ids, mask, types = _batch()
    real, rows = mask.bool(), mask.sum(1) > 0
    with torch.no_grad():
        ref = set_packing(model, "padded")(ids, mask, types, output_hidden_states=True)
        got = set_packing(model, route)(ids, mask, types, output_hidden_states=True)
    assert got.last_hidden_state.shape == ref.last_hidden_state.shape
    for a, b in zip(got.hidden_states, ref.hidden_states):
        torch.testing.assert_close(a[real], b[real], rtol=0, atol=1e-5)
        assert not a[~real].any()  # pad positions are zeros, not garbage
    torch.testing.assert_close(got.pooler_output[rows], ref.pooler_output[rows], rtol=0, atol=1e-5)
    assert torch.isfinite(got.pooler_output).all()
    # and the padded reference really differs at pad positions (so the zero check can fail)
    assert ref.last_hidden_state[~real].abs().sum() > 0


@pytest.mark.parametrize("route", ROUTES)
def test_training_equals_padded(route):
    """Dropout 0: the same loss and the same gradient of every parameter as the padded path."""
    ids, mask, types = _batch(seed=1)
    grads, losses = {}, {}
    for mode in ("padded", route):
        model = set_packing(_model(BertForPreTraining, seed=3), mode).train()
        positions = torch.nonzero(mask.flatten()).flatten()[::3]  # sparse MLM on real tokens
        out = model(ids, mask, types, mlm_positions=positions)
        rows = mask.sum(1) > 0  # the empty row's pooled vector is zeros packed, uniform attention padded
        loss = out.prediction_logits.logsumexp(-1).mean() + out.seq_relationship_logits[rows].square().mean()
        loss.backward()
        losses[mode] = loss.item()
        grads[mode] = {n: p.grad.clone() for n, p in model.named_parameters()}
    assert losses[route] == pytest.approx(losses["padded"], rel=1e-6)
    for name, g in grads["padded"].items():
        torch.testing.assert_close(grads[route][name], g, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("route", ROUTES)
def test_training_with_dropout_runs_and_drops(route):
    """With dropout the packed path is a different random draw, not a different function: finite outputs,
    reproducible from the seed, and different from eval mode."""
    ids, mask, types = _batch(seed=2)
    model = set_packing(_model(dropout=0.1), route)
    torch.manual_seed(7)
    a = model.train()(ids, mask, types).last_hidden_state
    torch.manual_seed(7)
    b = model(ids, mask, types).last_hidden_state
    with torch.no_grad():
        c = model.eval()(ids, mask, types).last_hidden_state
    assert torch.isfinite(a).all() and torch.equal(a, b)
    assert (a - c)[mask.bool()].abs().max() > 1e-3


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("cls", [BertForTokenClassification, BertForQuestionAnswering, BertForMultipleChoice])
def test_heads_equal_padded(cls, route):
    extra = {"id2label": {0: "A", 1: "B", 2: "O"}, "label2id": {"A": 0, "B": 1, "O": 2}}
    model = _model(cls, seed=4, **(extra if cls is BertForTokenClassification else {})).eval()
    ids, mask, types = _batch(lengths=(13, 2, 7, 5), seed=5)
    if cls is BertForMultipleChoice:  # two examples of two candidates
        ids, mask, types = (t.view(2, 2, -1) for t in (ids, mask, types))
    with torch.no_grad():
        ref, got = (set_packing(model, m)(ids, mask, types) for m in ("padded", route))
    if cls is BertForQuestionAnswering:
        for a, b in ((got.start_logits, ref.start_logits), (got.end_logits, ref.end_logits)):
            torch.testing.assert_close(a[mask.bool()], b[mask.bool()], rtol=0, atol=1e-5)
    elif cls is BertForTokenClassification:
        torch.testing.assert_close(got.logits[mask.bool()], ref.logits[mask.bool()], rtol=0, atol=1e-5)
    else:
        torch.testing.assert_close(got.logits, ref.logits, rtol=0, atol=1e-5)


@pytest.mark.parametrize("packing", ("padded", *ROUTES))
def test_all_padding_row_stays_finite_in_bf16(packing):
    """A filler row with no token: under bf16 autocast and with bf16 weights every output stays finite."""
    ids, mask, types = _batch(lengths=(5, 0, 3), L=6)
    model = set_packing(_model(), packing).eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(ids, mask, types)
    assert torch.isfinite(out.last_hidden_state).all() and torch.isfinite(out.pooler_output).all()
    with torch.no_grad():
        out = model.to(torch.bfloat16)(ids, mask, types)
    assert torch.isfinite(out.last_hidden_state).all() and torch.isfinite(out.pooler_output).all()


def test_mask_bias_stays_finite_in_half_precision():
    """float32's lowest value rounds to -inf in bf16 and fp16; the bias is finite in all three and still
    sends exp() of a masked score to 0."""
    bias = mask_to_bias(torch.tensor([[1, 0]]), torch.float32)
    assert torch.isinf(torch.tensor(torch.finfo(torch.float32).min).to(torch.bfloat16))
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        assert torch.isfinite(bias.to(dtype)).all()
    assert torch.softmax(torch.tensor([3.0, 50.0]) + bias[0, 0, 0], -1)[1] == 0


def test_qa_loss_is_the_same_packed_and_padded():
    """The span loss covers real tokens only, so it does not depend on how the batch ran (dropout 0)."""
    from bertkit.data.batch import Batch
    from bertkit.tasks.qa import SpanObjective

    ids, mask, types = _batch(lengths=(13, 6, 9, 4), seed=7)
    batch = Batch(ids, mask, types, labels=torch.tensor([[1, 2], [0, 0], [3, 5], [2, 2]]))
    model = _model(BertForQuestionAnswering, seed=8).train()
    losses = {m: SpanObjective().loss_and_metrics(set_packing(model, m), batch)["span_loss"].item()
              for m in ("padded", *ROUTES)}
    assert losses["loop"] == pytest.approx(losses["padded"], rel=1e-6)
    assert losses["repad"] == pytest.approx(losses["padded"], rel=1e-6)


def test_route_rule():
    L = 100
    def mask(lengths):
        return (torch.arange(L)[None] < torch.tensor(lengths)[:, None]).long()
    little, half, most = mask([100, 95]), mask([100, 60, 60, 40]), mask([100, 10, 10, 10])
    full = mask([100, 100])
    with torch.no_grad():  # inference on CPU: the loop at any padding
        assert choose_route(full, torch.float32, dropout=False) is None  # no padding
        assert choose_route(little, torch.float32, dropout=False) == "loop"  # 2.5% padding
        assert choose_route(half, torch.float32, dropout=False) == "loop"  # 35% padding
        assert choose_route(most, torch.bfloat16, dropout=False) == "loop"  # 67% padding
    with torch.enable_grad():  # training: repad from 10% padding
        assert choose_route(most, torch.float32, dropout=True) == "repad"
        assert choose_route(little, torch.float32, dropout=True) is None


def test_auto_packs_only_where_it_pays():
    model = _model().train()  # dropout 0: training mode takes the training rule, the same function
    assert model.packing == "auto"
    ids, mask, types = _batch(lengths=(13, 12), seed=6)  # 4% padding
    # with gradients: padded below 10% padding (HF's values at pad positions), packed above (zeros there)
    assert model(ids, mask, types).last_hidden_state[~mask.bool()].abs().sum() > 0
    with torch.no_grad():  # inference: packed at any padding
        assert not model.eval()(ids, mask, types).last_hidden_state[~mask.bool()].any()
    ids, mask, types = _batch(seed=6)
    assert not model.train()(ids, mask, types).last_hidden_state[~mask.bool()].any()
    with pytest.raises(ValueError, match="packing must be one of"):
        set_packing(model, "always")
