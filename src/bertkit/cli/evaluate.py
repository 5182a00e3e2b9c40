"""``bertkit evaluate``: a fine-tuned model's metrics on a labelled file, and a results table of every example.

Prints one JSON object: the overall metrics by plain names at the top level (accuracy, f1, precision, recall,
mcc, pearson, spearman, exact_match, ...), per-class or per-type figures nested, and ``examples``. The table
(CSV and Markdown: input, prediction, gold) goes beside the model as eval-<data file>.{csv,md}, or to --table.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from bertkit.cli.options import add_column_options, add_inference_options, column_sets, describe, existing_dir
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_path


def add_parser(sub) -> None:
    from bertkit.cli.finetune import TASKS

    p = sub.add_parser("evaluate", help="metrics of a fine-tuned model on a labelled file, and a results table",
                       description=describe(__doc__))
    p.add_argument("--model", required=True, type=existing_dir, help="fine-tuned model folder")
    p.add_argument("--data", required=True, type=Path, help="labelled file in one of the task's formats")
    p.add_argument("--task", choices=TASKS, help="checked against the model (default: the model's)")
    p.add_argument("--table", type=Path, help="results table path (.csv and .md are written)")
    add_column_options(p)
    add_inference_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    import torch

    from bertkit.cli.task_families import data_config, load_finetuned, predict_examples
    from bertkit.model import set_packing
    from bertkit.train.loop import autocast_dtype

    stem = args.data.name.split(".")[0]
    base = _table_base(args.table, stem) if args.table is not None else args.model / f"eval-{stem}"
    if not base.parent.is_dir():  # before the inference, not after it
        raise BertkitError(f"--table {args.table}: folder {base.parent} does not exist")
    model, tok, fam, labels = load_finetuned(args.model, args.task)
    set_packing(model, args.packing)
    data = data_config(args.model, column_sets(args) + args.overrides)
    examples = fam.read(args.data, data, need_labels=True)
    if not examples:
        raise BertkitError(f"{args.data}: no examples")
    dtype = autocast_dtype(args.dtype, torch.device("cpu"))
    preds = predict_examples(model, tok, fam, labels, examples, data, dtype=dtype)
    scores = {**fam.score(preds, examples, labels), "examples": len(examples)}
    write_table(fam.rows(preds, examples), base)
    print(json.dumps(scores, ensure_ascii=False))
    print(f"results table: {_with(base, '.csv')} and {_with(base, '.md')}", file=sys.stderr)
    return 0


def _table_base(path: Path, stem: str) -> Path:
    """--table PATH without its .csv / .md suffix (any other suffix is part of the name: ``tab.v1``); an
    existing folder gets eval-STEM inside it."""
    if path.is_dir():
        return path / f"eval-{stem}"
    return path.with_suffix("") if path.suffix.lower() in (".csv", ".md") else path


def _with(base: Path, suffix: str) -> Path:
    return base.with_name(base.name + suffix)


def write_table(rows: list[dict], base: Path) -> None:
    """``base``.csv and ``base``.md (the suffix added to the name), each written atomically."""
    if not rows:
        return
    cols = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    cell = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    for suffix, text in ((".csv", buf.getvalue()), (".md", "\n".join(md) + "\n")):
        with atomic_path(_with(base, suffix)) as tmp:
            tmp.write_text(text, encoding="utf-8")
