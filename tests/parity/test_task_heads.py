"""Fine-tuning heads against Hugging Face, both directions, through the one key map (random-init models with
odd sizes and noise on every weight, so a swapped or transposed key shows).

HF -> bertkit: a directory that transformers saved predicts in bertkit with the same logits.
bertkit -> HF: a directory bertkit saved loads in transformers with no missing or unexpected keys and the same
logits. Fine-tuning start: the encoder comes from a pretraining checkpoint, the new head is reported.
"""

from __future__ import annotations

import logging

import pytest
import torch

from bertparity import PACKINGS, perturb, random_batch, record_diff, write_vocab

from bertkit.config import BertConfig
from bertkit.convert import load_for_finetuning, load_pretrained, save_pretrained
from bertkit.model import (BertForMultipleChoice, BertForQuestionAnswering, BertForSequenceClassification,
                           BertForTokenClassification, set_packing)
from bertkit.utils.errors import BertkitError

ATOL = 1e-5
CFG = dict(vocab_size=99, hidden_size=36, num_attention_heads=3, intermediate_size=37, num_hidden_layers=3,
           max_position_embeddings=40)
LABELS3 = {"id2label": {0: "neg", 1: "neu", 2: "pos"}, "label2id": {"neg": 0, "neu": 1, "pos": 2}}
# (class, extra config); regression is a sequence classifier with one output
CASES = [
    (BertForSequenceClassification, LABELS3),
    (BertForSequenceClassification, {"problem_type": "regression", "id2label": {0: "LABEL_0"},
                                     "label2id": {"LABEL_0": 0}}),
    (BertForTokenClassification, {"id2label": {i: t for i, t in enumerate(["B-X", "I-X", "O", "B-Y", "I-Y"])},
                                  "label2id": {t: i for i, t in enumerate(["B-X", "I-X", "O", "B-Y", "I-Y"])}}),
    (BertForQuestionAnswering, {}),
    (BertForMultipleChoice, {}),
]
IDS = ["sequence", "regression", "token", "qa", "choice"]


def _inputs(cls, seed=0):
    ids, mask, types = random_batch(CFG["vocab_size"], seed=seed)
    if cls is BertForMultipleChoice:  # (B, L) -> (2, 2, L): two examples of two candidates
        ids, mask, types = (t.view(2, 2, -1) for t in (ids, mask, types))
    return ids, mask, types


def _logits(out):
    return (out.start_logits, out.end_logits) if hasattr(out, "start_logits") else (out.logits,)


def _real(cls, packing, mask):
    """The positions to compare: all with the padded path, the real tokens of per-token outputs when packed
    (a packed run leaves zeros at pad positions)."""
    per_token = cls in (BertForTokenClassification, BertForQuestionAnswering)
    return mask if per_token and packing != "padded" else None


@pytest.mark.parametrize("packing", PACKINGS)
@pytest.mark.parametrize("cls,extra", CASES, ids=IDS)
def test_hf_directory_predicts_the_same_in_bertkit(cls, extra, hf_checkpoint, packing):
    hf, d = hf_checkpoint(cls.__name__, seed=3, **CFG, **extra)
    model, tok = load_pretrained(d)
    assert type(model) is cls and tok is not None
    set_packing(model, packing)
    ids, mask, types = _inputs(cls)
    with torch.no_grad():
        want, got = _logits(hf(input_ids=ids, attention_mask=mask, token_type_ids=types)), _logits(model(ids, mask, types))
    for i, (g, w) in enumerate(zip(got, want)):
        record_diff(f"HF -> bertkit {cls.__name__} {extra.get('problem_type', '')} {packing} logits[{i}]", g, w, ATOL,
                    _real(cls, packing, mask))


@pytest.mark.parametrize("packing", PACKINGS)
@pytest.mark.parametrize("cls,extra", CASES, ids=IDS)
def test_bertkit_directory_loads_in_transformers(cls, extra, tmp_path, transformers, packing):
    torch.manual_seed(5)
    model = set_packing(perturb(cls(BertConfig(**CFG, **extra)), 5).eval(), packing)
    tok_dir = tmp_path / "tok"
    tok_dir.mkdir()
    write_vocab(tok_dir, CFG["vocab_size"])
    from bertkit.tokenizer import Tokenizer

    save_pretrained(model, tmp_path / "out", Tokenizer.from_pretrained(tok_dir))
    hf, info = getattr(transformers, cls.__name__).from_pretrained(tmp_path / "out", output_loading_info=True)
    assert {k: v for k, v in info.items() if v} == {}, info
    if extra.get("id2label"):
        assert hf.config.id2label == extra["id2label"]
    ids, mask, types = _inputs(cls)
    with torch.no_grad():
        want, got = _logits(hf.eval()(input_ids=ids, attention_mask=mask, token_type_ids=types)), _logits(model(ids, mask, types))
    for i, (g, w) in enumerate(zip(got, want)):
        record_diff(f"bertkit -> HF {cls.__name__} {extra.get('problem_type', '')} {packing} logits[{i}]", g, w, ATOL,
                    _real(cls, packing, mask))
    again, _ = load_pretrained(tmp_path / "out")  # and back: the class comes from config.json
    assert type(again) is cls


@pytest.mark.parametrize("cls,extra", CASES, ids=IDS)
def test_finetuning_starts_from_a_pretraining_checkpoint(cls, extra, hf_checkpoint, caplog, transformers):
    hf, d = hf_checkpoint("BertForPreTraining", seed=2, **CFG)
    torch.manual_seed(0)
    with caplog.at_level(logging.WARNING):
        model, _, report = load_for_finetuning(d, cls, extra)
    head = [f"{h}.{p}" for h in cls.HEADS for p in ("bias", "weight")]
    assert report.initialised == head + ([] if cls.POOLER else [])  # the pretraining file has a pooler
    assert all(k.startswith(("cls.", "bert.pooler.")) for k in report.dropped) and report.dropped
    enc = transformers.BertModel.from_pretrained(d).eval()
    ids, mask, types = random_batch(CFG["vocab_size"])
    with torch.no_grad():
        record_diff("fine-tuning start: encoder", model.eval().bert(ids, mask, types).last_hidden_state,
                    enc(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state, ATOL, mask)
    # the same seed gives the same new head
    torch.manual_seed(0)
    again, _, _ = load_for_finetuning(d, cls, extra)
    name = f"{cls.HEADS[0]}.weight"
    assert torch.equal(model.state_dict()[name], again.state_dict()[name])


def test_finetuning_reuses_the_head_of_the_same_task_only(hf_checkpoint):
    hf, d = hf_checkpoint("BertForSequenceClassification", seed=4, **CFG, **LABELS3)
    model, _, report = load_for_finetuning(d, BertForSequenceClassification, LABELS3)
    assert report.initialised == [] and report.dropped == []
    torch.testing.assert_close(model.classifier.weight, hf.classifier.weight, rtol=0, atol=0)
    two = {"id2label": {0: "a", 1: "b"}, "label2id": {"a": 0, "b": 1}}
    model, _, report = load_for_finetuning(d, BertForSequenceClassification, two)  # other labels: a new head
    assert report.initialised == ["classifier.bias", "classifier.weight"]
    assert report.dropped == ["classifier.bias", "classifier.weight"]
    assert model.classifier.weight.shape == (2, CFG["hidden_size"])


def test_a_missing_encoder_key_stays_fatal(hf_checkpoint, tmp_path):
    from safetensors.torch import load_file, save_file

    hf, d = hf_checkpoint("BertModel", seed=1, **CFG)
    sd = load_file(d / "model.safetensors")
    del sd["encoder.layer.1.output.dense.weight"]
    save_file(sd, d / "model.safetensors")
    with pytest.raises(BertkitError, match="missing key.*encoder.layer.1.output.dense.weight"):
        load_for_finetuning(d, BertForTokenClassification, {})


def test_a_missing_head_is_fatal_when_predicting(hf_checkpoint):
    hf, d = hf_checkpoint("BertModel", seed=1, **CFG)
    with pytest.raises(BertkitError, match="missing key.*qa_outputs"):
        load_pretrained(d, model_cls=BertForQuestionAnswering)
