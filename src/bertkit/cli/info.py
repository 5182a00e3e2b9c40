"""``bertkit info``: what a checkpoint folder holds — config, parameter count, heads, tokenizer."""

from __future__ import annotations

import json

from bertkit.cli.options import existing_dir


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="describe a checkpoint folder", description="Print the config, parameter "
                       "count and heads of a Hugging Face style BERT checkpoint folder.")
    p.add_argument("dir", metavar="DIR", type=existing_dir, help="a checkpoint folder (config.json, weights)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(run=run)


def run(args) -> int:
    from bertkit.convert import checkpoint_info

    info = checkpoint_info(args.dir)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(format_info(info))
    return 0


def format_info(info: dict) -> str:
    lines = []
    for key, value in info.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k:<30} {v}" for k, v in value.items()]
        elif isinstance(value, int) and not isinstance(value, bool):
            lines.append(f"{key:<32} {value:,}")
        else:
            lines.append(f"{key:<32} {value}")
    return "\n".join(lines)
