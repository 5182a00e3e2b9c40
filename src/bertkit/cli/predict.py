"""``bertkit predict``: run a fine-tuned model over a file, one JSON object per input record, in input order.

Keys: classification ``label`` and ``probabilities``; regression ``score``; NER ``entities`` (``type``,
``text``, ``start``, ``end`` in characters); QA ``id``, ``answer``, ``start``, ``end``, ``score``; multiple
choice ``label`` (the index) and ``scores``. INPUT is a file in any of the task's formats (gold labels are
ignored) or plain text, one text per line (a blank line too). Long texts are truncated to the model's maximum,
or with --windows (classification, regression) scored as overlapping windows whose predictions are averaged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bertkit.cli.options import add_column_options, add_inference_options, column_sets, describe, existing_dir
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_path

KEYS = {"classify": ("label", "probabilities"), "regress": ("score",), "ner": ("entities",),
        "qa": ("answer", "start", "end", "score"), "choice": ("label", "scores")}


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="predictions of a fine-tuned model, as JSON lines",
                       description=describe(__doc__))
    p.add_argument("--model", required=True, type=existing_dir, help="fine-tuned model folder")
    p.add_argument("input", type=Path, help="input file (a task format, or plain text one per line)")
    p.add_argument("--output", type=Path, help="JSONL file (default: standard output)")
    p.add_argument("--windows", action="store_true", help="classification and regression: average over sliding windows")
    add_column_options(p)
    add_inference_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    import torch

    from bertkit.cli.task_families import data_config, load_finetuned, predict_examples
    from bertkit.model import set_packing
    from bertkit.train.loop import autocast_dtype

    model, tok, fam, labels = load_finetuned(args.model, None)
    set_packing(model, args.packing)
    if args.windows and fam.name not in ("classify", "regress"):
        raise BertkitError(f"--windows is for classification and regression, not {fam.name}")
    data = data_config(args.model, column_sets(args) + args.overrides)
    examples = fam.read(args.input, data, need_labels=False)
    if not examples:
        raise BertkitError(f"{args.input}: no records")
    preds = predict_examples(model, tok, fam, labels, examples, data,
                             dtype=autocast_dtype(args.dtype, torch.device("cpu")), windows=args.windows)
    lines = []
    for p, ex in zip(preds, examples):
        record = {k: p[k] for k in KEYS[fam.name]}
        if fam.name == "qa":
            record = {"id": ex.id, **record}
        lines.append(json.dumps(record, ensure_ascii=False))
    text = "".join(ln + "\n" for ln in lines)
    if args.output is None:
        sys.stdout.write(text)
    else:
        with atomic_path(args.output) as tmp:
            tmp.write_text(text, encoding="utf-8")
        print(f"{len(lines)} predictions in {args.output}", file=sys.stderr)
    return 0
