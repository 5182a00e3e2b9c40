"""``torch.compile`` for bertkit models (``train.compile``, ``--compile``).

A compiled model runs the padded encoder: the packed routes decide per batch from the mask (a host read and a
Python branch, which break the graph) and change the token count with every batch (a new shape each time), so
compilation would pay for little. Inductor fuses the elementwise work around the matmuls (bias, GELU, dropout,
LayerNorm, softmax); on CPU it needs a C++ compiler and takes tens of seconds to compile (39 s for MiniLM's
inference, 75 s for its training step here: BENCHMARKS.md, "Runtime options"), so it is an option, off by
default.
"""

from __future__ import annotations

import os
import shutil
import sys

import torch
from torch import nn

from bertkit.config import COMPILABLE_PACKING
from bertkit.model.bert import set_packing
from bertkit.utils.errors import BertkitError


def _cxx() -> str:
    """The C++ compiler inductor looks for: ``$CXX``, else g++ (clang++ on macOS)."""
    return os.environ.get("CXX", "clang++" if sys.platform == "darwin" else "g++")


def cpp_compiler() -> str | None:
    """The path of the C++ compiler inductor will use on this machine, or None when it is not on PATH."""
    return shutil.which(_cxx())


def compile_model(model: nn.Module, device: torch.device, packing: str = "auto") -> nn.Module:
    """``torch.compile(model)`` with every encoder inside set to the padded path; ``model`` itself is changed
    (packing) and stays usable uncompiled. Errors the user can fix (a packed route asked for, no C++ compiler
    for a CPU build) are raised as BertkitError before any compile starts."""
    if packing not in COMPILABLE_PACKING:
        raise BertkitError(f"packing={packing} cannot be compiled: a compiled model runs padded "
                           f"(use packing {' or '.join(COMPILABLE_PACKING)})")
    if device.type == "cpu" and cpp_compiler() is None:
        raise BertkitError("torch.compile on CPU needs a C++ compiler: "
                           f"{_cxx()} is not on PATH (install one, set CXX, or run without "
                           "compile)")
    return torch.compile(set_packing(model, "padded"))
