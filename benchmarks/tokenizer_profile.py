"""Where a cold ``encode_batch`` spends its time: the parts of bertkit's tokenizer path on the tokenizer benchmark's
10 MB of Wikipedia paragraphs, each timed alone (best of ``--repeats``, the garbage collector off as
``encode_batch`` runs it).

The warm rows show the cost with every chunk already cached (splitting, lookups, assembling); the cold rows with
an empty cache; the "first sightings" rows time only the work an empty cache adds (WordPiece of each new word,
the per-chunk entries, the exact Unicode pipeline for non-ASCII chunks). It reads private methods on purpose:
it is a profile, not an API.

    python benchmarks/tokenizer_profile.py [--mb 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from itertools import chain

from bertkit.tokenizer import Tokenizer
from bertkit.tokenizer.pretokenize import ASCII_WORD_RE
from bertkit.utils.paths import shared_data_dir
from common import machine  # noqa: E402  (benchmarks/common.py, beside this script)
from tokenizer import read_paragraphs  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=10.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    data = shared_data_dir()
    vocab = data / "vocab" / "bert-base-uncased"
    paras = read_paragraphs(data / "wikipedia_en", int(args.mb * 1e6))

    def best(run, setup=lambda: None) -> float:
        out = float("inf")
        for _ in range(args.repeats):
            arg = setup()
            gc.collect()
            gc.disable()
            t0 = time.perf_counter()
            run(arg)
            out = min(out, time.perf_counter() - t0)
            gc.enable()
        return out

    def fresh() -> Tokenizer:
        return Tokenizer.from_pretrained(vocab)

    def filled(offsets: bool, forget_chunks: bool = False) -> Tokenizer:
        tok = fresh()
        tok.encode_batch(paras, return_offsets=offsets)
        if forget_chunks:  # words stay known, chunks are new again
            tok._ids.clear(), tok._flat.clear(), tok._word_flat.clear(), tok._empty.clear()
        return tok

    chunks = list(dict.fromkeys(c for t in paras for c in t.split()))
    ascii_chunks = [c for c in chunks if c.isascii() and c.isprintable() and "[" not in c]
    plain = set(ascii_chunks)
    other = [c for c in chunks if c not in plain]
    words = list(dict.fromkeys(w for c in ascii_chunks for w in ASCII_WORD_RE.findall(c.lower())))
    warm = filled(False)
    get = warm._ids.__getitem__
    rows = [
        ("str.split of every paragraph", best(lambda _: [t.split() for t in paras])),
        ("warm: split, cache lookups, chained ids lists", best(lambda _: [list(chain.from_iterable(map(get, t.split())))
                                                                           for t in paras])),
        ("warm encode_batch", best(lambda tok: tok.encode_batch(paras), lambda: filled(False))),
        ("cold encode_batch", best(lambda tok: tok.encode_batch(paras), fresh)),
        (f"  WordPiece of the {len(words):,} distinct ASCII words", best(
            lambda tok: [tok._wordpiece.split_ids(w) for w in words], fresh)),
        (f"  first sightings of {len(ascii_chunks):,} ASCII chunks, words known", best(
            lambda tok: [tok._fill_ids(c) for c in ascii_chunks], lambda: filled(False, True))),
        (f"  first sightings of {len(other):,} other chunks (exact pipeline)", best(
            lambda tok: [tok._fill_ids(c) for c in other], lambda: filled(False, True))),
        ("warm encode_batch with offsets", best(lambda tok: tok.encode_batch(paras, return_offsets=True),
                                                lambda: filled(True))),
        ("cold encode_batch with offsets", best(lambda tok: tok.encode_batch(paras, return_offsets=True), fresh)),
        (f"  first sightings with offsets of the {len(ascii_chunks):,} ASCII chunks (words' entries rebuilt, "
         "WordPiece included)", best(
            lambda tok: [tok._fill(c) for c in ascii_chunks], lambda: filled(True, True))),
    ]
    m = machine()
    print(f"{len(paras):,} paragraphs, {args.mb:g} MB; {m['cpu']}, Python {m['python']}; best of {args.repeats}")
    for name, seconds in rows:
        print(f"{seconds:8.3f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
