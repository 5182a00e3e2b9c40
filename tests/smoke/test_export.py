"""``bertkit export --onnx``: the file runs on ONNX Runtime (the serving peer) with the outputs bertkit gives, at
batch and sequence sizes other than the traced ones, for an encoder and for heads; bad input is one line and
leaves nothing behind.

Tiny random models on BERT's uncased vocab (odd sizes, noised weights) keep each export to seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clirun import assert_one_line_error, bertkit

from bertkit.config import BertConfig
from bertkit.convert import load_pretrained, save_pretrained
from bertkit.model import BertForMultipleChoice, BertForQuestionAnswering, BertModel, set_packing
from bertkit.tokenizer import Tokenizer

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

CFG = dict(vocab_size=30522, hidden_size=36, num_hidden_layers=2, num_attention_heads=3, intermediate_size=37,
           max_position_embeddings=64)


def _model_dir(tmp_path, cls, vocab_dir):
    torch.manual_seed(0)
    model = cls(BertConfig(**CFG))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape) * 0.05)
    out = tmp_path / cls.__name__
    save_pretrained(model.eval(), out, Tokenizer.from_pretrained(vocab_dir("bert-base-uncased")))
    return out


def _run(onnx_file, inputs):
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    feed = dict(zip(("input_ids", "attention_mask", "token_type_ids"), (t.numpy() for t in inputs)))
    return dict(zip(names, session.run(names, feed)))


def _inputs(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, 5000, shape, generator=g)
    mask = torch.ones_like(ids)
    mask[0, ..., shape[-1] // 3:] = 0
    return ids * mask, mask, torch.zeros_like(ids)


@pytest.mark.parametrize("cls", [BertModel, BertForQuestionAnswering, BertForMultipleChoice])
def test_export_runs_on_onnx_runtime_with_bertkits_outputs(cls, tmp_path, vocab_dir):
    d = _model_dir(tmp_path, cls, vocab_dir)
    out = tmp_path / "model.onnx"
    proc = bertkit("export", "--onnx", d, out)
    assert f"wrote {out}" in proc.stderr and "checked" in proc.stderr
    model, _ = load_pretrained(d)
    set_packing(model, "padded")
    for shape in ((1, 5), (4, 37)) if cls is not BertForMultipleChoice else ((1, 3, 5), (2, 4, 19)):
        inputs = _inputs(shape)
        got = _run(out, inputs)
        with torch.no_grad():
            want = model(*inputs)
        for name, value in got.items():
            np.testing.assert_allclose(value, getattr(want, name).numpy(), rtol=0, atol=1e-4, err_msg=name)
    assert {p.name for p in tmp_path.iterdir() if p.name.startswith(".")} == set()  # no temporary left


def test_export_small_vocab_and_one_token_type(tmp_path):
    """A model from bertkit's own vocab trainer can be small, and have one token type."""
    from bertkit.convert.onnx import export_onnx

    torch.manual_seed(0)
    model = BertModel(BertConfig(**{**CFG, "vocab_size": 99, "type_vocab_size": 1}))
    report = export_onnx(model, tmp_path / "small.onnx")
    assert report["max_abs_diff"] < 1e-4 and (tmp_path / "small.onnx").is_file()


def test_export_bad_inputs(tmp_path, vocab_dir):
    d = _model_dir(tmp_path, BertModel, vocab_dir)
    assert_one_line_error(bertkit("export", "--onnx", d, tmp_path / "m.txt", check=False), "expected a .onnx")
    assert_one_line_error(bertkit("export", "--onnx", d, tmp_path / "no" / "m.onnx", check=False),
                          "does not exist")
    assert_one_line_error(bertkit("export", "--onnx", tmp_path / "nothing", tmp_path / "m.onnx", check=False),
                          "no such directory")
    assert not list(tmp_path.glob("*.onnx*")) and not list(tmp_path.glob(".m.onnx*"))
