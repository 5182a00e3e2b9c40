"""``torch.compile`` for bertkit models (``train.compile``, ``embed --compile``).

A compiled model runs the padded encoder: the packed routes decide per batch from the mask (a host read and a
Python branch, which break the graph) and change the token count with every batch (a new shape each time), so
compilation would pay for little. Inductor fuses the elementwise work around the matmuls (bias, GELU, dropout,
LayerNorm, softmax); on CPU it needs a C++ compiler and compiles for a minute or more per distinct shape class
(BENCHMARKS.md, "torch.compile"), so it is an option, off by default.
"""

from __future__ import annotations

import shutil

import torch
from torch import nn

from bertkit.model.bert import set_packing
from bertkit.utils.errors import BertkitError

COMPILABLE_PACKING = ("auto", "padded")


def compile_model(model: nn.Module, device: torch.device, packing: str = "auto") -> nn.Module:
    """``torch.compile(model)`` with every encoder inside set to the padded path; ``model`` itself is changed
    (packing) and stays usable uncompiled. Errors the user can fix (a packed route asked for, no C++ compiler
    for a CPU build) are raised as BertkitError before any compile starts."""
    if packing not in COMPILABLE_PACKING:
        raise BertkitError(f"packing={packing} cannot be compiled: a compiled model runs padded "
                           "(use packing auto or padded)")
    if device.type == "cpu" and not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        raise BertkitError("torch.compile on CPU needs a C++ compiler on PATH (g++ or clang++); "
                           "install one or run without compile")
    return torch.compile(set_packing(model, "padded"))
