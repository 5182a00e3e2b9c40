"""The ``bertkit`` command: one subcommand per module in this package; each parses its arguments and calls
the library. Errors the user can fix (BertkitError) print as one line and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from bertkit.utils.errors import BertkitError


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), so every bad input reads the same way."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from bertkit.cli import (bench, demo, embed, evaluate, export, fill_mask, finetune, info, predict, prepare,
                             pretrain, tokenize, train_tokenizer)

    parser = _Parser(prog="bertkit", description="BERT end to end: train a vocab, prepare text, pretrain, fill "
                     "masks, fine-tune, evaluate, predict, tokenize, embed, inspect and export checkpoints, benchmark the machine.")
    parser.add_argument("--version", action="version", version=f"bertkit {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in (tokenize, embed, info, demo, train_tokenizer, prepare, pretrain, fill_mask, finetune, evaluate,
                   predict, export, bench):
        module.add_parser(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bertkit")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except BertkitError as e:
        print(f"bertkit {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"bertkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
