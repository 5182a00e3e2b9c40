"""BertModel and heads on their own: shapes, masking, defaults, dropout, init, tying, losses.

Parity with Hugging Face is in tests/parity; these tests check properties that hold for any correct BERT.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bertkit.config import BertConfig
from bertkit.data.batch import Batch
from bertkit.model import BertForMaskedLM, BertForPreTraining, BertModel, EncoderOutput
from bertkit.tasks.pretraining import PretrainingObjective

CFG = BertConfig(vocab_size=99, hidden_size=36, num_hidden_layers=3, num_attention_heads=3, intermediate_size=37,
                 max_position_embeddings=40, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return BertModel(CFG).eval()


def _batch(B=3, L=11, seed=1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, CFG.vocab_size, (B, L), generator=g)
    mask = torch.ones(B, L, dtype=torch.long)
    mask[1, 7:] = 0
    mask[2, 2:] = 0
    return ids, mask


def test_shapes_and_hidden_states(model):
    ids, mask = _batch()
    out = model(ids, mask, output_hidden_states=True)
    assert isinstance(out, EncoderOutput)
    assert out.last_hidden_state.shape == (3, 11, 36) and out.pooler_output.shape == (3, 36)
    assert len(out.hidden_states) == CFG.num_hidden_layers + 1
    assert torch.equal(out.hidden_states[-1], out.last_hidden_state)
    emb = model.embeddings(ids, torch.zeros_like(ids), torch.arange(11)[None])
    real = mask.bool()  # packed (the default for this much padding), pad positions hold zeros
    assert torch.equal(out.hidden_states[0][real], emb[real]) and not out.hidden_states[0][~real].any()
    assert model(ids, mask).hidden_states is None


def test_pad_positions_do_not_leak(model):
    """Changing pad tokens changes nothing at real positions; a padded row equals the row run alone."""
    ids, mask = _batch()
    a = model(ids, mask).last_hidden_state
    ids2 = ids.clone()
    ids2[mask == 0] = 5
    b = model(ids2, mask).last_hidden_state
    torch.testing.assert_close(a[mask.bool()], b[mask.bool()], rtol=0, atol=1e-6)
    alone = model(ids[1:2, :7]).last_hidden_state
    torch.testing.assert_close(a[1:2, :7], alone, rtol=0, atol=1e-5)
    # and without the mask the pad tokens do matter (so the check above can fail)
    assert (model(ids2).last_hidden_state[1, :7] - a[1, :7]).abs().max() > 1e-4


def test_defaults_for_token_types_and_positions(model):
    ids, mask = _batch()
    base = model(ids, mask).last_hidden_state
    same = model(ids, mask, token_type_ids=torch.zeros_like(ids),
                 position_ids=torch.arange(11).expand(3, 11)).last_hidden_state
    torch.testing.assert_close(base, same, rtol=0, atol=0)
    other = model(ids, mask, token_type_ids=torch.ones_like(ids)).last_hidden_state
    assert (other - base).abs().max() > 1e-4


def test_type_vocab_size_one():
    m = BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                             intermediate_size=20, type_vocab_size=1)).eval()
    assert m(torch.randint(0, 50, (2, 5))).last_hidden_state.shape == (2, 5, 16)


def test_dropout_only_in_training(model):
    ids, mask = _batch()
    torch.testing.assert_close(model(ids, mask).last_hidden_state, model(ids, mask).last_hidden_state, rtol=0, atol=0)
    model.train()
    assert (model(ids, mask).last_hidden_state - model(ids, mask).last_hidden_state).abs().max() > 1e-4


def test_bert_init():
    c = BertConfig.preset("tiny", vocab_size=2000, initializer_range=0.05, pad_token_id=3)
    m = BertForPreTraining(c)
    w = m.bert.embeddings.word.weight
    assert torch.all(w[3] == 0)
    assert abs(w[4:].std().item() - 0.05) < 0.003
    assert abs(m.bert.layers[0].ffn.up.weight.std().item() - 0.05) < 0.003
    assert torch.all(m.bert.layers[1].attn.query.bias == 0) and torch.all(m.mlm.bias == 0)
    assert torch.all(m.nsp.bias == 0)
    assert torch.all(m.bert.layers[1].attn_norm.weight == 1) and torch.all(m.mlm.norm.bias == 0)


def test_mlm_decoder_is_tied_to_word_embeddings():
    torch.manual_seed(0)
    m = BertForPreTraining(CFG).eval()
    names = [n for n, _ in m.named_parameters()]
    assert not any("decoder" in n for n in names)
    ids, mask = _batch()
    before = m(ids, mask).prediction_logits
    with torch.no_grad():
        m.bert.embeddings.word.weight[42] += torch.randn(36)  # (a constant shift would vanish after LayerNorm)
    after = m(ids, mask).prediction_logits
    assert (after[..., 42] - before[..., 42]).abs().max() > 1e-3
    m.zero_grad()
    m(ids, mask).prediction_logits[..., 7].sum().backward()
    assert m.bert.embeddings.word.weight.grad[7].abs().sum() > 0


def test_pretraining_losses():
    """The objective's sums / counts are BERT's mean MLM and NSP cross-entropies (computed here by hand)."""
    torch.manual_seed(0)
    m = BertForPreTraining(CFG).eval()
    ids, mask = _batch()
    pos = torch.tensor([0 * 11 + 2, 1 * 11 + 5, 2 * 11 + 1])  # flat (row * L + col)
    lab = torch.tensor([4, 8, 15])
    nsp = torch.tensor([0, 1, 1])
    batch = Batch(ids, mask, torch.zeros_like(ids), mlm_positions=pos, mlm_labels=lab, next_sentence_label=nsp)
    obj = PretrainingObjective()
    sums, counts = obj.loss_and_metrics(m, batch), obj.counts(batch)
    out = m(ids, mask)
    logits = out.prediction_logits
    want_mlm = -torch.stack([F.log_softmax(logits[0, 2], -1)[4], F.log_softmax(logits[1, 5], -1)[8],
                             F.log_softmax(logits[2, 1], -1)[15]]).mean()
    want_nsp = -F.log_softmax(out.seq_relationship_logits, -1)[torch.arange(3), nsp].mean()
    assert counts == {"mlm": 3, "nsp": 3}
    torch.testing.assert_close(sums["mlm_loss"] / counts["mlm"], want_mlm)
    torch.testing.assert_close(sums["nsp_loss"] / counts["nsp"], want_nsp)
    assert out.seq_relationship_logits.shape == (3, 2) and logits.shape == (3, 11, 99)
    # sparse MLM: the head on the asked positions only gives those rows of the dense logits
    sparse = m(ids, mask, mlm_positions=pos).prediction_logits
    assert sparse.shape == (3, 99)
    torch.testing.assert_close(sparse, logits.flatten(0, 1)[pos])
    dense = PretrainingObjective(sparse=False).loss_and_metrics(m, batch)
    for k in sums:
        torch.testing.assert_close(dense[k], sums[k])
    assert int(sums["mlm_accuracy"]) == int((logits.flatten(0, 1)[pos].argmax(-1) == lab).sum())


def test_masked_lm_has_no_pooler():
    m = BertForMaskedLM(CFG).eval()
    assert m.bert.pooler is None
    ids, mask = _batch()
    out = m(ids, mask)
    assert out.logits.shape == (3, 11, 99)


def test_bf16_forward():
    torch.manual_seed(0)
    m = BertForPreTraining(CFG).eval()
    ids, mask = _batch()
    ref = m(ids, mask).prediction_logits
    out = m.to(torch.bfloat16)(ids, mask).prediction_logits
    assert out.dtype == torch.bfloat16
    assert (out.float() - ref).abs().max() < 0.1


def test_layers_accept_any_leading_shape(model):
    """The FFN and norms are per-token, so a packed (T, H) stream goes through them unchanged."""
    x = torch.randn(3, 11, 36)
    layer = model.layers[0]
    torch.testing.assert_close(layer.ffn(x).reshape(33, 36), layer.ffn(x.reshape(33, 36)))


def test_package_exports():
    import bertkit
    from bertkit.config import BertConfig as C
    from bertkit.convert import load_pretrained, save_pretrained

    assert bertkit.BertConfig is C and bertkit.BertModel is BertModel
    assert bertkit.BertForPreTraining is BertForPreTraining
    assert bertkit.load_pretrained is load_pretrained and bertkit.save_pretrained is save_pretrained
