"""ONNX export of any bertkit model, for serving on ONNX Runtime (``bertkit export --onnx``).

torch.onnx's exporter (``torch.export`` then onnxscript) traces the padded path (the packed path's shapes
depend on the data), with dynamic batch and sequence axes. Inputs are ``input_ids``, ``attention_mask`` and
``token_type_ids`` (int64, (batch, sequence); multiple choice (batch, choices, sequence), every axis dynamic); the outputs are the
model's typed output fields by their Hugging Face names. Before the file is kept, onnx's reference evaluator
runs it on a batch of another shape than the traced one, with padding, and every output must agree with the
model (ONNX Runtime, the server, is a peer that src/ never imports; tests/ and benchmarks/ run the file on it
too). onnx and onnxscript are the optional ``onnx`` extra; nothing else in bertkit imports them.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bertkit.model import BertForMultipleChoice, set_packing
from bertkit.utils.errors import BertkitError

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
EXTERNAL_DATA_BYTES = 1_900_000_000  # protobuf's 2 GB limit: larger weights go to OUT.onnx.data beside it


class _Exportable(nn.Module):
    """The model with a tuple of tensors as output (the typed output's non-None fields, hidden states left out)."""

    def __init__(self, model: nn.Module, names: tuple[str, ...]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.model(input_ids, attention_mask, token_type_ids)
        return tuple(getattr(out, n) for n in self.names)


def _example(model: nn.Module, batch: int, length: int, seed: int) -> tuple[torch.Tensor, ...]:
    """(input_ids, attention_mask, token_type_ids) with the last row padded to half its length."""
    g = torch.Generator().manual_seed(seed)
    shape = (batch, 3, length) if isinstance(model, BertForMultipleChoice) else (batch, length)
    V = model.config.vocab_size
    ids = torch.randint(min(1000, V // 2), min(V, 2000), shape, generator=g)
    mask = torch.ones_like(ids)
    mask[-1, ..., length // 2:] = 0
    types = torch.zeros_like(ids)
    types[..., length // 3:] = min(1, model.config.type_vocab_size - 1)
    return ids * mask, mask, types * mask


def output_names(model: nn.Module) -> tuple[str, ...]:
    """The names of the exported outputs: the fields of the model's output that it fills."""
    model.eval()
    with torch.no_grad():
        out = model(*_example(model, 2, 8, 0))
    return tuple(f.name for f in dataclasses.fields(out) if f.name != "hidden_states" and getattr(out, f.name)
                 is not None)


def export_onnx(model: nn.Module, path: str | os.PathLike, *, opset: int = 18, atol: float = 1e-4) -> dict:
    """Write ``model`` to ``path`` as ONNX and check it with onnx's reference evaluator; returns a report (outputs,
    the largest difference to the model, the file size). Nothing is left at ``path`` unless the check passed.
    The model itself is made float32, eval and padded (``set_packing``) in place: export a copy to keep it."""
    missing = [m for m in ("onnx", "onnxscript") if importlib.util.find_spec(m) is None]  # onnxscript: the exporter's
    if missing:
        raise BertkitError(f"ONNX export needs the onnx extra ({', '.join(missing)} missing): "
                           "pip install 'bertkit[onnx]'")
    final = Path(path)
    if not final.parent.is_dir():
        raise BertkitError(f"{final.parent}: output folder does not exist")
    model = set_packing(model.float().eval(), "padded")
    names = output_names(model)
    wrapped = _Exportable(model, names)
    axes = {0: torch.export.Dim("batch"), 1: torch.export.Dim("sequence")}
    if isinstance(model, BertForMultipleChoice):  # (batch, choices, sequence)
        axes = {0: axes[0], 1: torch.export.Dim("choices"), 2: axes[1]}
    with torch.no_grad():
        program = torch.onnx.export(wrapped, _example(model, 2, 16, 1), None, input_names=list(INPUTS),
                                    output_names=list(names), opset_version=opset, dynamic_shapes=(axes,) * 3,
                                    dynamo=True, optimize=True, verbose=False)
    big = sum(p.numel() * p.element_size() for p in model.parameters()) > EXTERNAL_DATA_BYTES
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        program.save(str(tmp / final.name), external_data=big)
        diff = _check(tmp / final.name, model, names, atol)
        for f in tmp.iterdir():  # the data first: a file at ``path`` always has its data beside it
            if f.name != final.name:
                os.replace(f, final.parent / f.name)
        os.replace(tmp / final.name, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"outputs": list(names), "max_abs_diff": diff, "bytes": final.stat().st_size, "opset": opset,
            "external_data": big}


def _check(file: Path, model: nn.Module, names: tuple[str, ...], atol: float) -> float:
    """Run the file with onnx's reference evaluator on a batch of another shape than the traced one; the largest
    |difference| to the model."""
    from onnx.reference import ReferenceEvaluator

    inputs = _example(model, 3, 23, 2)
    got = ReferenceEvaluator(str(file)).run(list(names), {n: t.numpy() for n, t in zip(INPUTS, inputs)})
    with torch.no_grad():
        out = model(*inputs)
    mask = inputs[1].bool().numpy()
    worst = 0.0
    for name, g in zip(names, got):
        want = getattr(out, name).float().numpy()
        if g.shape != want.shape:
            raise BertkitError(f"ONNX check failed: {name} has shape {g.shape}, the model gives {want.shape}")
        if want.shape[: mask.ndim] == mask.shape:  # per-token outputs: compare the real tokens
            g, want = g[mask], want[mask]
        worst = max(worst, float(np.abs(g - want).max()))
    if worst > atol:
        raise BertkitError(f"ONNX check failed: the file's outputs differ from the model's by {worst:.3g} "
                           f"(> {atol:g})")
    return worst
