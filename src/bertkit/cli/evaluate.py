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

from bertkit.cli.options import add_inference_options, existing_dir
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_path


def add_parser(sub) -> None:
    from bertkit.cli.finetune import TASKS

    p = sub.add_parser("evaluate", help="metrics of a fine-tuned model on a labelled file, and a results table",
                       description=__doc__.split("\n\n")[0].replace("\n", " "))
    p.add_argument("--model", required=True, type=existing_dir, help="fine-tuned model folder")
    p.add_argument("--data", required=True, type=Path, help="labelled file in one of the task's formats")
    p.add_argument("--task", choices=TASKS, help="checked against the model (default: the model's)")
    p.add_argument("--table", type=Path, help="results table path (.csv and .md are written)")
    add_inference_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    import torch

    from bertkit.cli.task_families import data_config, load_finetuned, predict_examples
    from bertkit.model import set_packing
    from bertkit.train.loop import autocast_dtype

    model, tok, fam, labels = load_finetuned(args.model, args.task)
    set_packing(model, args.packing)
    data = data_config(args.model, args.overrides)
    examples = fam.read(args.data, data, need_labels=True)
    if not examples:
        raise BertkitError(f"{args.data}: no examples")
    dtype = autocast_dtype(args.dtype, torch.device("cpu"))
    preds = predict_examples(model, tok, fam, labels, examples, data, dtype=dtype)
    scores = {**fam.score(preds, examples, labels), "examples": len(examples)}
    stem = args.data.name.split(".")[0]
    base = args.table if args.table is not None else args.model / f"eval-{stem}"
    write_table(fam.rows(preds, examples), base)
    print(json.dumps(scores, ensure_ascii=False))
    print(f"results table: {base.with_suffix('.csv')} and {base.with_suffix('.md')}", file=sys.stderr)
    return 0


def write_table(rows: list[dict], base: Path) -> None:
    """``base``.csv and ``base``.md, each written atomically."""
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
        with atomic_path(base.with_suffix(suffix)) as tmp:
            tmp.write_text(text, encoding="utf-8")
