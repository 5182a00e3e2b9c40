"""The one key map: every parameter on each side is covered exactly once, and both directions invert."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from bertkit.config import BertConfig
from bertkit.convert import keymap
from bertkit.model import BertForPreTraining, BertModel

CFG = BertConfig(vocab_size=99, hidden_size=36, num_hidden_layers=3, num_attention_heads=3, intermediate_size=37,
                 max_position_embeddings=40)
# Tied copies that transformers lists in its state_dict but neither saves nor needs (see hf.py).
HF_TIED = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}


def test_table_has_no_duplicates():
    for side in (0, 1):
        counts = Counter(row[side] for row in keymap.KEYMAP)
        assert [k for k, n in counts.items() if n > 1] == []


def test_ours_covered_exactly_once():
    ours = keymap.expand(CFG.num_hidden_layers, side="ours", parts=("mlm", "nsp"))
    assert len(ours) == len(set(ours))
    assert set(ours) == set(BertForPreTraining(CFG).state_dict())
    bare = {keymap.add_prefix(k) for k in BertModel(CFG).state_dict()}
    assert bare == {k for k in ours if not keymap.is_head_key(k)}


def test_theirs_covered_exactly_once():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    transformers = pytest.importorskip("transformers")
    hf_cfg = transformers.BertConfig(**{k: v for k, v in CFG.to_dict().items() if k != "model_type"})
    hf_keys = set(transformers.BertForPreTraining(hf_cfg).state_dict()) - HF_TIED
    theirs = keymap.expand(CFG.num_hidden_layers, side="theirs", parts=("mlm", "nsp"))
    assert len(theirs) == len(set(theirs))
    assert set(theirs) == hf_keys
    encoder = {keymap.add_prefix(k) for k in transformers.BertModel(hf_cfg).state_dict()}
    assert {k for k in theirs if not keymap.is_head_key(k)} == encoder


def test_directions_invert_each_other():
    ours = keymap.expand(12, side="ours")
    theirs = keymap.expand(12, side="theirs")
    assert [keymap.to_hf(k) for k in ours] == theirs
    assert [keymap.from_hf(k) for k in theirs] == ours
    assert keymap.to_hf("bert.layers.11.ffn.up.weight") == "bert.encoder.layer.11.intermediate.dense.weight"


@pytest.mark.parametrize("name", ["BertForSequenceClassification", "BertForTokenClassification",
                                  "BertForQuestionAnswering", "BertForMultipleChoice", "BertForMaskedLM"])
def test_every_task_model_covered_exactly_once(name):
    """Each model class's parameters, ours and Hugging Face's, are exactly the table's rows for its heads."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    transformers = pytest.importorskip("transformers")
    from bertkit.model import MODEL_CLASSES

    cls = MODEL_CLASSES[name]
    ours = set(cls(CFG).state_dict())
    want = set(keymap.expand(CFG.num_hidden_layers, side="ours", parts=cls.HEADS))
    if not cls.POOLER:
        want = {k for k in want if not k.startswith("bert.pooler.")}
    assert ours == want
    hf_cfg = transformers.BertConfig(**{k: v for k, v in CFG.to_dict().items() if k != "model_type"})
    theirs = set(getattr(transformers, name)(hf_cfg).state_dict()) - HF_TIED
    assert theirs == {keymap.to_hf(k) for k in ours}
    assert keymap.heads_in(theirs) == cls.HEADS


def test_unknown_names_map_to_none():
    assert keymap.from_hf("classifier.dense.weight") is None
    assert keymap.from_hf("bert.encoder.layer.x.output.dense.weight") is None
    assert keymap.to_hf("bert.layers.0.attn.qkv.weight") is None
