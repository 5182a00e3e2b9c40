"""BertConfig: round trips, strict validation with messages naming the key, presets, parameter counts.

Parameter counts are Hugging Face's published figures for bert-base/large (transformers' BertModel and
BertForPreTraining, tied decoder counted once), not numbers computed by bertkit.
"""

from __future__ import annotations

import json

import pytest
import torch

from bertkit.config import IGNORED_HF_KEYS, PRESETS, SUPPORTED_ACTIVATIONS, BertConfig
from bertkit.model import BertForPreTraining, BertModel, num_parameters
from bertkit.model.bert import ACTIVATIONS
from bertkit.utils.errors import BertkitError

# A real config.json (sentence-transformers/all-MiniLM-L6-v2), generic PretrainedConfig keys included.
MINILM_CONFIG = {
    "_name_or_path": "nreimers/MiniLM-L6-H384-uncased", "architectures": ["BertModel"],
    "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": False, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "hidden_size": 384, "initializer_range": 0.02, "intermediate_size": 1536,
    "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
    "num_hidden_layers": 6, "pad_token_id": 0, "position_embedding_type": "absolute",
    "transformers_version": "4.8.2", "type_vocab_size": 2, "use_cache": True, "vocab_size": 30522,
}


def test_defaults_are_bert_base():
    c = BertConfig()
    shape = (c.vocab_size, c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size)
    assert shape == (30522, 768, 12, 12, 3072)
    assert (c.hidden_act, c.max_position_embeddings, c.type_vocab_size, c.layer_norm_eps) == ("gelu", 512, 2, 1e-12)


def test_dict_round_trip():
    c = BertConfig(vocab_size=99, hidden_size=36, num_attention_heads=3, intermediate_size=37, hidden_act="gelu_new",
                   classifier_dropout=0.2, id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1})
    d = c.to_dict()
    assert d["model_type"] == "bert"
    assert BertConfig.from_dict(d) == c
    assert BertConfig.from_dict(json.loads(json.dumps(d))) == c  # JSON turns id2label keys into strings


def test_json_file_round_trip(tmp_path):
    c = BertConfig.preset("tiny", vocab_size=1000, type_vocab_size=1)
    c.to_json_file(tmp_path / "config.json", architectures=["BertModel"])
    assert json.loads((tmp_path / "config.json").read_text())["architectures"] == ["BertModel"]
    assert BertConfig.from_json_file(tmp_path / "config.json") == c


def test_real_hf_config_is_accepted():
    c = BertConfig.from_dict(MINILM_CONFIG)
    assert (c.hidden_size, c.num_hidden_layers, c.intermediate_size) == (384, 6, 1536)


def test_hf_written_config_is_accepted(tmp_path):
    transformers = pytest.importorskip("transformers")
    hf = transformers.BertConfig(vocab_size=99, hidden_size=36, num_attention_heads=3, intermediate_size=37,
                                 id2label={0: "a", 1: "b", 2: "c"})
    hf.save_pretrained(tmp_path)
    c = BertConfig.from_json_file(tmp_path / "config.json")
    assert (c.vocab_size, c.hidden_size, c.intermediate_size) == (99, 36, 37)
    assert c.id2label == {0: "a", 1: "b", 2: "c"}


@pytest.mark.parametrize("key", ["hiden_size", "rotary_dim", "num_experts"])
def test_unknown_key_is_named(key):
    with pytest.raises(BertkitError, match=key):
        BertConfig.from_dict({**MINILM_CONFIG, key: 1})


@pytest.mark.parametrize("key,value", [("hidden_size", "384"), ("num_hidden_layers", 6.0), ("num_hidden_layers", True),
                                       ("hidden_dropout_prob", "0.1"), ("hidden_act", 3), ("pad_token_id", 0.5),
                                       ("id2label", ["a"])])
def test_ill_typed_key_is_named(key, value):
    with pytest.raises(BertkitError, match=key):
        BertConfig.from_dict({**MINILM_CONFIG, key: value})


@pytest.mark.parametrize("key,value", [("is_decoder", True), ("add_cross_attention", True),
                                       ("tie_word_embeddings", False),
                                       ("position_embedding_type", "relative_key"), ("is_encoder_decoder", True),
                                       ("model_type", "roberta")])
def test_unsupported_settings_are_rejected(key, value):
    with pytest.raises(BertkitError, match=key):
        BertConfig.from_dict({**MINILM_CONFIG, key: value})


def test_consistency_checks():
    with pytest.raises(BertkitError, match="not divisible"):
        BertConfig(hidden_size=36, num_attention_heads=5)
    with pytest.raises(BertkitError, match="hidden_act"):
        BertConfig(hidden_act="mish")
    with pytest.raises(BertkitError, match="pad_token_id"):
        BertConfig(vocab_size=10, pad_token_id=10)
    with pytest.raises(BertkitError, match="hidden_dropout_prob"):
        BertConfig(hidden_dropout_prob=1.5)


def test_generic_keys_are_accepted():
    BertConfig.from_dict({**MINILM_CONFIG, **{k: None for k in ("bos_token_id", "eos_token_id", "torch_dtype")},
                          "output_past": True, "dtype": "float32", "is_decoder": False, "add_cross_attention": False})
    assert "architectures" in IGNORED_HF_KEYS and "id2label" not in IGNORED_HF_KEYS


def test_malformed_json_names_file_and_line(tmp_path):
    (tmp_path / "config.json").write_text('{\n  "hidden_size": 36,\n  "vocab_size": 99,,\n}\n')
    with pytest.raises(BertkitError, match=r"config\.json.*line 3"):
        BertConfig.from_json_file(tmp_path / "config.json")


def test_presets():
    expect = {"tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8), "medium": (8, 512, 8),
              "base": (12, 768, 12), "large": (24, 1024, 16)}
    assert set(PRESETS) == set(expect)
    for name, (layers, hidden, heads) in expect.items():
        c = BertConfig.preset(name)
        assert (c.num_hidden_layers, c.hidden_size, c.num_attention_heads) == (layers, hidden, heads)
        assert c.intermediate_size == 4 * hidden and c.vocab_size == 30522
    assert BertConfig.preset("tiny", vocab_size=99).vocab_size == 99
    with pytest.raises(BertkitError, match="huge"):
        BertConfig.preset("huge")


@pytest.mark.parametrize("name,encoder,pretraining",
                         [("base", 109_482_240, 110_106_428), ("large", 335_141_888, 336_226_108)])
def test_parameter_counts_match_hugging_face(name, encoder, pretraining):
    c = BertConfig.preset(name)
    with torch.device("meta"):
        assert num_parameters(BertModel(c)) == encoder
        assert num_parameters(BertForPreTraining(c)) == pretraining


def test_every_supported_activation_is_implemented():
    assert set(SUPPORTED_ACTIVATIONS) == set(ACTIVATIONS)
