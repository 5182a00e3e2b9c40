"""``bertkit train-tokenizer``: learn a WordPiece vocabulary from text files, write a tokenizer folder.

The algorithm is :mod:`bertkit.tokenizer.trainer`; the files are read by :mod:`bertkit.data.corpus` (plain
text, one paragraph a line, or WikiExtractor ``<doc>`` files; ``.gz`` either way; folders walked). The folder
is written to a temporary sibling and renamed into place, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import struct
import sys
import time
from pathlib import Path
from typing import Iterator

from bertkit.cli.options import positive_int
from bertkit.tokenizer.trainer import LAYOUTS, SCORES, TrainerConfig, train
from bertkit.tokenizer.vocab import CONFIG_FILE, VOCAB_FILE
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_dir

# files that a tokenizer folder may hold; an existing --output with anything else is not replaced
TOKENIZER_FILES = {VOCAB_FILE, CONFIG_FILE, "tokenizer.json", "special_tokens_map.json"}


def add_parser(sub) -> None:
    p = sub.add_parser("train-tokenizer", help="learn a WordPiece vocabulary (vocab.txt) from text",
                       description="Learn a WordPiece vocabulary with the likelihood-based merges of Schuster & "
                                   "Nakajima from text files or folders (plain text one paragraph a line, or "
                                   "WikiExtractor <doc> files; .gz ok) and write vocab.txt + "
                                   "tokenizer_config.json, loadable by bertkit and by transformers.")
    p.add_argument("inputs", metavar="INPUT", nargs="+", help="text files or folders")
    p.add_argument("--vocab-size", type=positive_int, required=True,
                   help="tokens in the vocabulary, reserved ones included (BERT: 30522)")
    p.add_argument("--output", "-o", type=Path, required=True, help="tokenizer folder to write")
    p.add_argument("--cased", action="store_true", help="keep case and accents (default: lower-case, strip)")
    p.add_argument("--min-frequency", type=positive_int, default=2,
                   help="learn only from words seen at least K times (default 2)")
    p.add_argument("--max-words", type=positive_int, default=4_000_000,
                   help="distinct words held while counting; the rarest are pruned beyond (default 4,000,000)")
    p.add_argument("--limit-alphabet", type=positive_int, default=1000,
                   help="keep the N most frequent characters (default 1000)")
    p.add_argument("--layout", choices=LAYOUTS, default="auto",
                   help="special-token ids: bert = [PAD] 0, [UNK] [CLS] [SEP] [MASK] 100-103 with 994 [unusedN] "
                        "(bert-base-uncased's layout); compact = 0-4; auto = bert from 10,000 tokens up")
    p.add_argument("--score", choices=SCORES, default="loglik",
                   help="merge criterion: loglik = the merge that most raises the unigram log-likelihood of the "
                        "training words (default); ratio = count(ab)/(count(a)*count(b)), the explainers' shortcut, "
                        "which ignores frequency and needs ~3x more tokens per word (BENCHMARKS.md)")
    p.add_argument("--no-progress", "--quiet", "-q", dest="no_progress", action="store_true",
                   help="no progress bars (as in prepare, pretrain and finetune)")
    p.set_defaults(run=run)


def check_output(path: Path) -> None:
    """Refuse an output that is a file, or a folder holding anything but tokenizer files."""
    if not path.exists():
        return
    if not path.is_dir():
        raise BertkitError(f"{path}: exists and is not a folder")
    other = sorted(p.name for p in path.iterdir() if p.name not in TOKENIZER_FILES)
    if other:
        raise BertkitError(f"{path}: exists and is not a tokenizer folder (it holds {other[0]!r}"
                           f"{f' and {len(other) - 1} more' if len(other) > 1 else ''}); choose another --output")


def _text_size(path: Path) -> int:
    """Uncompressed size for the progress bar (a gzip file's trailer holds it modulo 2^32)."""
    if path.name.endswith(".gz"):
        try:
            with open(path, "rb") as f:
                f.seek(-4, 2)
                return struct.unpack("<I", f.read(4))[0]
        except (OSError, struct.error):
            return 0
    return path.stat().st_size


def paragraphs(files: list[Path], bar) -> Iterator[str]:
    """Every paragraph of every file, advancing ``bar`` by the bytes read."""
    from bertkit.data.corpus import sized_documents

    for path in files:
        for paras, nbytes in sized_documents(path):
            yield from paras
            if bar is not None:
                bar.update(nbytes)


def run(args) -> int:
    from tqdm import tqdm

    from bertkit.data.corpus import find_files

    config = TrainerConfig(vocab_size=args.vocab_size, lowercase=not args.cased, min_frequency=args.min_frequency,
                           max_words=args.max_words, limit_alphabet=args.limit_alphabet, layout=args.layout,
                           score=args.score)
    config.check()
    check_output(args.output)
    files = find_files(args.inputs)
    show = None if not args.no_progress else True  # None: tqdm shows bars only on a terminal
    bar = tqdm(total=sum(map(_text_size, files)), desc="reading", unit="B", unit_scale=True, disable=show)
    t0 = time.perf_counter()
    seen = 0

    def counted() -> Iterator[str]:
        nonlocal seen
        for text in paragraphs(files, bar):
            seen += 1
            yield text

    try:
        vocab = train(counted(), config, progress=lambda **kw: tqdm(disable=show, **kw))
    except BertkitError:
        if not seen:
            names = ", ".join(map(str, args.inputs))
            raise BertkitError(f"{names}: no text to learn from ({len(files)} file(s), no paragraph)") from None
        raise
    finally:
        bar.close()
    with atomic_dir(args.output) as tmp:
        vocab.save(tmp)
    s = vocab.stats
    learned = s["vocab_size"] - s["reserved"] - s["alphabet_symbols"]
    print(f"wrote {args.output}: {VOCAB_FILE} ({s['vocab_size']:,} tokens: {s['reserved']} reserved, "
          f"{s['alphabet_symbols']} alphabet, {learned:,} learned), {CONFIG_FILE} "
          f"({'cased' if args.cased else 'uncased'}); {s['texts']:,} paragraphs, {s['distinct_words']:,} distinct "
          f"words, {s['words_kept']:,} learned from; {time.perf_counter() - t0:.1f} s "
          f"(counting {s['count_s']:.1f} s, merges {s['merge_s']:.1f} s)", file=sys.stderr)
    return 0
