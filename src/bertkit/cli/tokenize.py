"""``bertkit tokenize``: one JSON object per input line (or TSV pair) with the ids a BERT model takes."""

from __future__ import annotations

import json
import sys
from itertools import islice
from pathlib import Path
from typing import IO, Iterator

from bertkit.cli.options import existing_dir, positive_int
from bertkit.tokenizer import Tokenizer
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_path, decode_lines, read_lines

CHUNK = 2048  # lines encoded per batch call


def add_parser(sub) -> None:
    p = sub.add_parser("tokenize", help="text -> input_ids / token_type_ids / attention_mask as JSON lines",
                       description="Tokenize each line of INPUT (or each TSV pair with --pairs) as BERT does "
                                   "and print one JSON object per line.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", type=existing_dir, help="model folder with vocab.txt (+ tokenizer_config.json)")
    src.add_argument("--vocab", type=Path, help="a bare vocab.txt (lower-cases unless --cased)")
    p.add_argument("--cased", action="store_true", help="with --vocab: keep case and accents")
    p.add_argument("input", metavar="INPUT", help="UTF-8 text file (.gz ok), one text per line; - for stdin")
    p.add_argument("--pairs", action="store_true", help="INPUT is a TSV of two columns: text A <tab> text B")
    p.add_argument("--max-length", type=positive_int, help="truncate (longest first) to N tokens incl. specials")
    p.add_argument("--offsets", action="store_true", help="add character offsets [start, end) into the line")
    p.add_argument("--tokens", action="store_true", help="add the wordpiece strings")
    p.add_argument("--output", "-o", type=Path, help="write here instead of stdout (atomically)")
    p.set_defaults(run=run)


def load_tokenizer(args) -> Tokenizer:
    if args.model is not None:
        return Tokenizer.from_pretrained(args.model)
    return Tokenizer.from_vocab(args.vocab, do_lower_case=not args.cased)


def _records(path: str, pairs: bool) -> Iterator[tuple[str, str | None]]:
    lines = decode_lines(sys.stdin.buffer, "<stdin>") if path == "-" else read_lines(path)
    for n, line in enumerate(lines, start=1):
        if not pairs:
            yield line, None
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            raise BertkitError(f"{path}: line {n}: expected 2 tab-separated columns, found {len(cols)}")
        yield cols[0], cols[1]


def write_json_lines(tok: Tokenizer, records: Iterator[tuple[str, str | None]], out: IO[str], args) -> int:
    """Encode records chunk by chunk and write one JSON object each; returns the number written."""
    count = 0
    trunc = "longest_first" if args.max_length else None
    while chunk := list(islice(records, CHUNK)):
        texts = [a for a, _ in chunk]
        pairs = [b for _, b in chunk] if args.pairs else None
        encs = tok.encode_batch(texts, pairs, max_length=args.max_length, truncation=trunc,
                                return_offsets=args.offsets)
        for e in encs:
            obj = {"input_ids": e.input_ids, "token_type_ids": e.token_type_ids, "attention_mask": e.attention_mask}
            if args.offsets:
                obj["offsets"] = [list(o) for o in e.offsets]
            if args.tokens:
                obj["tokens"] = e.tokens
            out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
        count += len(encs)
    return count


def run(args) -> int:
    if args.cased and args.model is not None:
        raise BertkitError("--cased goes with --vocab; a model folder says its own casing")
    specials, names = (3, "[CLS] and two [SEP]") if args.pairs else (2, "[CLS] and [SEP]")
    if args.max_length is not None and args.max_length <= specials:
        raise BertkitError(f"--max-length {args.max_length} leaves no room for text: {names} take {specials} "
                           f"tokens, so give at least {specials + 1}")
    tok = load_tokenizer(args)
    records = _records(args.input, args.pairs)
    if args.output is None:
        write_json_lines(tok, records, sys.stdout, args)
        sys.stdout.flush()
        return 0
    with atomic_path(args.output) as tmp, open(tmp, "w", encoding="utf-8") as out:
        n = write_json_lines(tok, records, out, args)
    print(f"wrote {n} lines to {args.output}", file=sys.stderr)
    return 0
