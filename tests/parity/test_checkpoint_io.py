"""Checkpoint directories both ways, and the errors a user sees for bad ones.

HF -> bertkit: the .bin path (``weights_only``), tied decoder copies and ``position_ids`` buffers in old files,
legacy LayerNorm gamma/beta names, keys without ``bert.``, dropping heads the requested model lacks.
bertkit -> HF: ``transformers.*.from_pretrained`` loads our directory with no missing, unexpected or
mismatched keys and gives the same outputs. The error tests at the end need only bertkit.
"""

from __future__ import annotations

import json
import logging

import pytest
import torch
from safetensors.torch import load_file, save_file

from bertparity import perturb, random_batch, record_diff, write_vocab  # noqa: E402

from bertkit.config import BertConfig  # noqa: E402
from bertkit.convert import checkpoint_info, load_pretrained, save_pretrained  # noqa: E402
from bertkit.model import BertForMaskedLM, BertForPreTraining, BertModel  # noqa: E402
from bertkit.tokenizer import Tokenizer  # noqa: E402
from bertkit.utils.errors import BertkitError  # noqa: E402

ATOL = 1e-5
CFG = dict(vocab_size=99, hidden_size=36, num_attention_heads=3, intermediate_size=37, num_hidden_layers=3,
           max_position_embeddings=40)


def _compare_pretraining(name, model, hf, seed=0):
    ids, mask, types = random_batch(CFG["vocab_size"], seed=seed)
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask, token_type_ids=types)
        got = model(ids, mask, types)
    record_diff(f"{name}: MLM logits", got.prediction_logits, want.prediction_logits, ATOL, mask)
    record_diff(f"{name}: NSP logits", got.seq_relationship_logits, want.seq_relationship_logits, ATOL)


def _bin_dir(hf, d, rename=lambda k: k):
    """An old-style directory: config.json + pytorch_model.bin of HF's full state_dict (tied copies and all)."""
    d.mkdir()
    hf.config.save_pretrained(d)
    torch.save({rename(k): v.clone() for k, v in hf.state_dict().items()}, d / "pytorch_model.bin")
    write_vocab(d, CFG["vocab_size"])
    return d


# ---- HF -> bertkit ------------------------------------------------------------------------------------------


def test_bin_with_tied_copies_and_buffers(hf_checkpoint, tmp_path):
    hf, _ = hf_checkpoint("BertForPreTraining", seed=1, **CFG)
    d = _bin_dir(hf, tmp_path / "bin")
    sd = torch.load(d / "pytorch_model.bin", weights_only=True)
    sd["bert.embeddings.position_ids"] = torch.arange(CFG["max_position_embeddings"])[None]
    torch.save(sd, d / "pytorch_model.bin")
    assert "cls.predictions.decoder.weight" in sd and "cls.predictions.decoder.bias" in sd
    model, tok = load_pretrained(d)
    assert type(model) is BertForPreTraining and isinstance(tok, Tokenizer) and tok.vocab_size == 99
    _compare_pretraining("bin", model, hf)


def test_legacy_gamma_beta_names(hf_checkpoint, tmp_path):
    hf, _ = hf_checkpoint("BertForPreTraining", seed=2, **CFG)
    rename = lambda k: k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
    d = _bin_dir(hf, tmp_path / "gamma", rename)
    assert any(k.endswith("gamma") for k in torch.load(d / "pytorch_model.bin", weights_only=True))
    model, _ = load_pretrained(d)
    _compare_pretraining("gamma/beta", model, hf)


def test_encoder_keys_without_prefix_in_a_head_checkpoint(hf_checkpoint, tmp_path):
    hf, d = hf_checkpoint("BertForPreTraining", seed=3, **CFG)
    sd = load_file(d / "model.safetensors")
    save_file({k.removeprefix("bert."): v for k, v in sd.items()}, d / "model.safetensors", metadata={"format": "pt"})
    model, _ = load_pretrained(d)
    _compare_pretraining("no bert. prefix", model, hf)


def test_sharded_safetensors(hf_checkpoint):
    hf, d = hf_checkpoint("BertForPreTraining", seed=7, **CFG)
    sd = load_file(d / "model.safetensors")
    (d / "model.safetensors").unlink()
    keys = sorted(sd)
    shards = {"model-00001-of-00002.safetensors": keys[::2], "model-00002-of-00002.safetensors": keys[1::2]}
    for name, part in shards.items():
        save_file({k: sd[k] for k in part}, d / name, metadata={"format": "pt"})
    index = {"metadata": {}, "weight_map": {k: name for name, part in shards.items() for k in part}}
    (d / "model.safetensors.index.json").write_text(json.dumps(index))
    model, _ = load_pretrained(d, device="cpu")
    _compare_pretraining("sharded safetensors", model, hf)
    assert checkpoint_info(d)["num_parameters"] == sum(p.numel() for p in hf.parameters())


def test_encoder_from_pretraining_checkpoint_drops_heads(hf_checkpoint, caplog):
    hf, d = hf_checkpoint("BertForPreTraining", seed=4, **CFG)
    with caplog.at_level(logging.WARNING, logger="bertkit"):
        model, _ = load_pretrained(d, model_cls=BertModel)
    assert type(model) is BertModel and model.pooler is not None
    assert "cls.seq_relationship.weight" in caplog.text and "dropped" in caplog.text
    ids, mask, types = random_batch(CFG["vocab_size"], seed=5)
    with torch.no_grad():
        want = hf.bert(input_ids=ids, attention_mask=mask, token_type_ids=types)
        got = model(ids, mask, types)
    record_diff("BertModel from pretraining ckpt: last_hidden_state", got.last_hidden_state, want.last_hidden_state,
                ATOL, mask)
    record_diff("BertModel from pretraining ckpt: pooler_output", got.pooler_output, want.pooler_output, ATOL)
    mlm, _ = load_pretrained(d, model_cls=BertForMaskedLM)  # NSP dropped, pooler kept
    assert type(mlm) is BertForMaskedLM and mlm.bert.pooler is not None


def test_checkpoint_info(hf_checkpoint):
    hf, d = hf_checkpoint("BertForPreTraining", seed=5, **CFG)
    info = checkpoint_info(d)
    assert info["heads"] == ["mlm", "nsp"] and info["pooler"] and info["dtype"] == "float32"
    assert info["num_parameters"] == sum(p.numel() for p in hf.parameters())  # transformers counts tied ones once
    assert info["config"]["hidden_size"] == 36 and info["architectures"] == ["BertForPreTraining"]
    assert info["tokenizer_vocab_size"] == 99 and info["weights_file"] == "model.safetensors"
    json.dumps(info)  # ready for ``bertkit info --json``
    hf2, d2 = hf_checkpoint("BertForMaskedLM", seed=5, vocab=False, **CFG)
    info2 = checkpoint_info(d2)
    assert info2["heads"] == ["mlm"] and not info2["pooler"] and info2["tokenizer_vocab_size"] is None
    assert info2["num_parameters"] == sum(p.numel() for p in hf2.parameters())


def test_checkpoint_info_of_bin_with_tied_copies(hf_checkpoint, tmp_path):
    hf, _ = hf_checkpoint("BertForPreTraining", seed=6, **CFG)
    info = checkpoint_info(_bin_dir(hf, tmp_path / "bin"))
    assert info["weights_file"] == "pytorch_model.bin"
    assert info["num_parameters"] == sum(p.numel() for p in hf.parameters())


# ---- bertkit -> HF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [BertForPreTraining, BertForMaskedLM, BertModel])
def test_saved_directory_loads_in_transformers(tmp_path, cls, transformers):
    torch.manual_seed(0)
    config = BertConfig(**CFG)
    model = perturb(cls(config), seed=9).eval()
    write_vocab(tmp_path, CFG["vocab_size"])
    tok = Tokenizer.from_pretrained(tmp_path)
    out = save_pretrained(model, tmp_path / "out", tokenizer=tok)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == [cls.__name__] and cfg["model_type"] == "bert"
    hf, info = getattr(transformers, cls.__name__).from_pretrained(out, output_loading_info=True)
    assert (info["missing_keys"], info["unexpected_keys"], info["mismatched_keys"]) == (set(), set(), set())
    hf.eval()
    ids, mask, types = random_batch(CFG["vocab_size"], seed=10)
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask, token_type_ids=types)
        got = model(ids, mask, types)
    name = f"bertkit->HF {cls.__name__}"
    if cls is BertModel:
        record_diff(f"{name}: last_hidden_state", got.last_hidden_state, want.last_hidden_state, ATOL, mask)
        record_diff(f"{name}: pooler_output", got.pooler_output, want.pooler_output, ATOL)
    elif cls is BertForMaskedLM:
        record_diff(f"{name}: logits", got.logits, want.logits, ATOL, mask)
    else:
        record_diff(f"{name}: MLM logits", got.prediction_logits, want.prediction_logits, ATOL, mask)
        record_diff(f"{name}: NSP logits", got.seq_relationship_logits, want.seq_relationship_logits, ATOL)
    # and back into bertkit: same class, same tokenizer, same outputs
    again, tok2 = load_pretrained(out)
    assert type(again) is cls and tok2.vocab_size == tok.vocab_size
    for k, v in model.state_dict().items():
        assert torch.equal(again.state_dict()[k], v), k


def test_bf16_save_and_load(tmp_path, transformers):
    model = BertForPreTraining(BertConfig(**CFG)).to(torch.bfloat16)
    save_pretrained(model, tmp_path / "bf16")
    assert checkpoint_info(tmp_path / "bf16")["dtype"] == "bfloat16"
    again, tok = load_pretrained(tmp_path / "bf16", dtype="bfloat16")
    assert tok is None and all(p.dtype == torch.bfloat16 and p.requires_grad for p in again.parameters())
    hf = transformers.BertForPreTraining.from_pretrained(tmp_path / "bf16", dtype=torch.bfloat16)
    assert torch.equal(hf.bert.embeddings.word_embeddings.weight, model.bert.embeddings.word.weight)


def test_save_replaces_existing_directory_atomically(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale.txt").write_text("x")
    save_pretrained(BertModel(BertConfig(**CFG)), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.json", "model.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ---- errors -------------------------------------------------------------------------------------------------


@pytest.fixture
def good_dir(tmp_path):
    torch.manual_seed(0)
    d = save_pretrained(BertForPreTraining(BertConfig(**CFG)), tmp_path / "good")
    write_vocab(d, CFG["vocab_size"])
    return d


def test_error_missing_and_not_a_directory(tmp_path):
    with pytest.raises(BertkitError, match="nope: no such checkpoint directory"):
        load_pretrained(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BertkitError, match="file: not a directory"):
        load_pretrained(tmp_path / "file")
    with pytest.raises(BertkitError, match="no config.json"):
        load_pretrained(tmp_path)


def test_error_no_weights(good_dir):
    (good_dir / "model.safetensors").unlink()
    with pytest.raises(BertkitError, match="no weights file.*model.safetensors.*pytorch_model.bin"):
        load_pretrained(good_dir)


def test_error_malformed_config(good_dir):
    (good_dir / "config.json").write_text('{\n  "hidden_size": 36\n  "vocab_size": 99\n}\n')
    with pytest.raises(BertkitError, match=r"config\.json: malformed JSON at line 3"):
        load_pretrained(good_dir)


def test_error_unknown_config_key(good_dir):
    cfg = json.loads((good_dir / "config.json").read_text())
    (good_dir / "config.json").write_text(json.dumps({**cfg, "rope_theta": 10000.0}))
    with pytest.raises(BertkitError, match=r"config\.json: unknown config key\(s\): rope_theta"):
        load_pretrained(good_dir)


def test_error_config_vocab_size_differs_from_weights(good_dir):
    cfg = json.loads((good_dir / "config.json").read_text())
    (good_dir / "config.json").write_text(json.dumps({**cfg, "vocab_size": 120}))
    with pytest.raises(BertkitError, match=r"bert\.embeddings\.word_embeddings\.weight has shape \(99, 36\) in the "
                                           r"weights but the config gives \(120, 36\)"):
        load_pretrained(good_dir)


def test_error_vocab_txt_larger_than_config(good_dir):
    write_vocab(good_dir, 150)
    with pytest.raises(BertkitError, match=r"vocab\.txt: 150 tokens but config\.json vocab_size is 99"):
        load_pretrained(good_dir)


def test_error_unexpected_and_missing_keys(good_dir):
    sd = load_file(good_dir / "model.safetensors")
    save_file({**sd, "lm_head.dense.weight": torch.zeros(2, 36)}, good_dir / "model.safetensors")
    with pytest.raises(BertkitError, match=r"unexpected key\(s\).*lm_head\.dense\.weight"):
        load_pretrained(good_dir)
    del sd["bert.encoder.layer.2.output.dense.bias"]
    save_file(sd, good_dir / "model.safetensors")
    with pytest.raises(BertkitError, match=r"missing key\(s\) for BertForPreTraining: "
                                           r"bert\.encoder\.layer\.2\.output\.dense\.bias"):
        load_pretrained(good_dir)


def test_error_head_missing_for_requested_class(tmp_path):
    d = save_pretrained(BertModel(BertConfig(**CFG)), tmp_path / "enc")
    with pytest.raises(BertkitError, match=r"missing key\(s\) for BertForPreTraining: cls\.predictions\.bias"):
        load_pretrained(d, model_cls=BertForPreTraining)


def test_error_untied_decoder(good_dir):
    sd = load_file(good_dir / "model.safetensors")
    sd["cls.predictions.decoder.weight"] = torch.randn(99, 36)
    save_file(sd, good_dir / "model.safetensors")
    with pytest.raises(BertkitError, match="cls.predictions.decoder.weight differs from "
                                           "bert.embeddings.word_embeddings.weight"):
        load_pretrained(good_dir)


def test_error_bad_dtype(good_dir):
    with pytest.raises(BertkitError, match="int64"):
        load_pretrained(good_dir, dtype="int64")


def test_error_corrupt_weights(good_dir):
    (good_dir / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(BertkitError, match=r"model\.safetensors: cannot read weights"):
        load_pretrained(good_dir)
