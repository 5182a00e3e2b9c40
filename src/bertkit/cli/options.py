"""Argument types and helpers shared by the commands."""

from __future__ import annotations

import argparse
from pathlib import Path


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def existing_dir(text: str) -> Path:
    """A model directory; checked here so that the message is the same for every command."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such directory")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: not a directory (expected a model folder)")
    return path


def dtype_name(text: str) -> str:
    """A dtype's torch name (``getattr(torch, name)``) or ``auto``; checked without importing torch, so that
    argparse, which runs this on the default too, answers a usage error at once."""
    table = {"auto": "auto", "float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
             "float16": "float16", "fp16": "float16"}
    if text not in table:
        raise argparse.ArgumentTypeError(f"unknown dtype {text!r} (choose auto, float32, bfloat16 or float16)")
    return table[text]


def add_packing_option(p) -> None:
    """--packing, shared by the commands that run a model over many texts."""
    from bertkit.config import PACKING

    p.add_argument("--packing", choices=PACKING, default="auto",
                   help="run the encoder on the real tokens only: auto (default: where measured faster), "
                        "padded (never), or one attention route (loop, repad; varlen on CUDA)")


def add_inference_options(p) -> None:
    """--dtype, --packing and --set data.KEY=VALUE, shared by evaluate and predict."""
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"],
                   help="autocast dtype (auto: bfloat16 on CPUs with native bf16)")
    add_packing_option(p)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="data.KEY=VALUE",
                   help="change a data setting, e.g. --set data.max_seq_length=256")
