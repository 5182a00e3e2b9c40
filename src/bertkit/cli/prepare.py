"""``bertkit prepare``: text files and folders -> a token store for pretraining (see bertkit.data.prepare)."""

from __future__ import annotations

from pathlib import Path

from bertkit.cli.options import positive_int
from bertkit.data.prepare import MAX_WORKERS, prepare


def add_parser(sub) -> None:
    p = sub.add_parser(
        "prepare", help="tokenize a text corpus into a memory-mapped token store for pretraining",
        description="Read plain-text (one sentence or paragraph per line, a blank line between documents) and "
                    "WikiExtractor <doc> files and folders (.gz ok), split paragraphs into sentences, tokenize "
                    "them in worker processes and write a token store to OUTPUT. A second run on the same "
                    "inputs does nothing.")
    p.add_argument("inputs", metavar="INPUT", nargs="+", type=Path, help="text files or folders (walked, sorted)")
    p.add_argument("--tokenizer", type=Path, required=True, help="folder with vocab.txt (+ tokenizer_config.json)")
    p.add_argument("--output", "-o", type=Path, required=True, help="the store folder to write")
    p.add_argument("--workers", type=positive_int, help=f"tokenizer processes (default: CPUs, at most {MAX_WORKERS}; "
                                                        "1 = in this process)")
    p.add_argument("--force", action="store_true", help="rebuild, replacing whatever OUTPUT holds")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(run=run)


def run(args) -> int:
    r = prepare(args.inputs, args.tokenizer, args.output, workers=args.workers, force=args.force,
                progress=not args.no_progress)
    counts = f"{r.num_documents:,} documents, {r.num_sentences:,} sentences, {r.num_tokens:,} tokens"
    if r.up_to_date:
        print(f"{r.path} is up to date ({counts}); nothing to do")
    else:
        print(f"wrote {r.path}: {counts} from {r.raw_bytes / 1e6:.1f} MB of text in {r.seconds:.1f} s "
              f"({r.mb_per_s:.2f} MB/s, {r.workers} worker{'s' if r.workers > 1 else ''})")
    return 0
