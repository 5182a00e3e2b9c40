"""``bertkit fill-mask``: top-k tokens with probabilities for every [MASK] in each text.

A readable table on a terminal, or one JSON object per text with ``--json``.
"""

from __future__ import annotations

import json
import sys

from bertkit.cli.options import describe, existing_dir, positive_int
from bertkit.utils.errors import BertkitError


def add_parser(sub) -> None:
    p = sub.add_parser("fill-mask", help="predict the tokens behind [MASK] with a pretrained model",
                       description=describe(__doc__))
    p.add_argument("--model", required=True, type=existing_dir,
                   help="a BertForPreTraining or BertForMaskedLM checkpoint folder (with vocab.txt)")
    p.add_argument("texts", nargs="+", metavar="TEXT", help="texts holding one or more [MASK] tokens")
    p.add_argument("--top-k", type=positive_int, default=5, help="tokens shown per [MASK] (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per text")
    p.set_defaults(run=run)


def run(args) -> int:
    from bertkit.convert import load_pretrained
    from bertkit.tasks.fill_mask import fill_mask

    model, tok = load_pretrained(args.model)
    if tok is None:
        raise BertkitError(f"{args.model}: no vocab.txt in the model folder")
    for text in args.texts:
        if tok.mask_token not in text:
            raise BertkitError(f"no {tok.mask_token} in {text!r}")
    results = fill_mask(model, tok, args.texts, top_k=args.top_k)
    for text, preds in zip(args.texts, results):
        if args.json:
            print(json.dumps({"text": text, "masks": [
                {"position": m.position, "predictions": [{"token": t, "id": i, "probability": round(p, 6)}
                                                         for t, i, p in zip(m.tokens, m.ids, m.probabilities)]}
                for m in preds]}, ensure_ascii=False))
            continue
        print(text)
        for n, m in enumerate(preds, start=1):
            cells = "  ".join(f"{t:<12} {p:6.1%}" for t, p in zip(m.tokens, m.probabilities))
            print(f"  [MASK] {n}: {cells}")
    sys.stdout.flush()
    return 0
