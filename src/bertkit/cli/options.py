"""Argument types and helpers shared by the commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
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


def add_column_options(p) -> None:
    """--text-columns and --label-column, for tabular task files whose column names are not common ones."""
    p.add_argument("--text-columns", help="text column(s) A[,B] when the names are not common ones "
                   "(data.text_columns)")
    p.add_argument("--label-column", help="label column when its name is not a common one (data.label_column)")


def column_sets(args) -> list[str]:
    """The ``--set`` overrides that --text-columns and --label-column stand for."""
    sets = []
    if args.text_columns:
        sets.append("data.text_columns=" + json.dumps([c.strip() for c in args.text_columns.split(",")]))
    if args.label_column:
        sets.append("data.label_column=" + json.dumps(args.label_column))  # quoted: a column named 1 or yes
    return sets


def describe(doc: str, part: int = 0) -> str:
    """Paragraph ``part`` of a command module's docstring as a --help description: one line, without the
    reStructuredText double backquotes."""
    return doc.split("\n\n")[part].replace("\n", " ").replace("``", "")
