"""Tokenizer throughput: bertkit vs BertTokenizerFast (Rust, one thread) vs BertTokenizerLegacy (pure Python).

Reads the first ``--mb`` MB (UTF-8 bytes) of Wikipedia paragraphs from the shared data, encodes them with
[CLS]/[SEP], no truncation or padding, with and without offsets, and checks that the outputs are identical
(ids; offsets in the offsets run) before printing MB/s, chars/s, tokens/s and the ratios. The legacy
reference is timed on the first ``--legacy-mb`` MB only (it runs at about 1 MB/s).

What is compared: one ``encode_batch`` call (bertkit) against one batch ``__call__`` of BertTokenizerFast,
each returning Python lists for every paragraph, and against the Rust engine alone (``backend_tokenizer
.encode_batch`` plus reading ``.ids``/``.offsets``, no BatchEncoding); reading the data and building the
tokenizers are not timed.
The fast reference runs single-threaded (``RAYON_NUM_THREADS=1``, set before the import) so that the
figures compare one core with one core. bertkit keeps a per-word cache on the Tokenizer object: the
headline ("cold") figure is a fresh Tokenizer for every timed run, so the cache starts empty, as for a
new process; "warm" re-encodes the same text with the cache already filled and is an upper bound.
Each figure is the best of ``--repeats`` runs.

Usage: python benchmarks/tokenizer.py [--mb 10] [--vocab DIR] [--legacy-mb 1] [--repeats 3] [--json PATH]
"""

from __future__ import annotations

import os

# Before anything imports tokenizers: one thread, and no fork warning.
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from bertkit.data.corpus import iter_documents  # noqa: E402
from bertkit.utils.paths import shared_data_dir  # noqa: E402
from common import best_of, machine  # noqa: E402  (benchmarks/common.py, beside this script)


def read_paragraphs(folder: Path, max_bytes: int) -> list[str]:
    """The first paragraphs of the WikiExtractor shards (no <doc> lines, titles or blank lines) up to max_bytes."""
    out, size = [], 0
    for doc in iter_documents(sorted(folder.glob("enwiki_part*.txt.gz"))):
        for line in doc:
            out.append(line)
            size += len(line.encode("utf-8"))
            if size >= max_bytes:
                return out
    raise SystemExit(f"only {size} bytes of paragraphs in {folder}, {max_bytes} asked for")


def first_mismatch(name: str, texts, ours, theirs) -> str | None:
    bad = [i for i, (a, b) in enumerate(zip(ours, theirs)) if list(a) != list(b)]
    if len(ours) != len(theirs):
        return f"{name}: {len(ours)} outputs vs {len(theirs)}"
    if not bad:
        return None
    i = bad[0]
    return f"{name}: {len(bad)} of {len(texts)} paragraphs differ; first {texts[i][:200]!r}: {ours[i][:20]} vs {theirs[i][:20]}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=10.0, help="MB (10^6 UTF-8 bytes) of paragraphs (default 10)")
    p.add_argument("--legacy-mb", type=float, default=1.0, help="MB for the slow legacy reference (default 1)")
    p.add_argument("--vocab", type=Path, default=None, help="vocab folder (default bert-base-uncased)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per figure; the best counts (default 3)")
    p.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    args = p.parse_args(argv)

    from transformers import BertTokenizerFast
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    from bertkit.tokenizer import Tokenizer

    data = shared_data_dir()
    vocab_dir = args.vocab or data / "vocab" / "bert-base-uncased"
    config = json.loads((vocab_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    lower = bool(config.get("do_lower_case", True))
    with open(vocab_dir / "vocab.txt", encoding="utf-8") as f:
        vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}

    paragraphs = read_paragraphs(data / "wikipedia_en", int(args.mb * 1e6))
    n_bytes = sum(len(t.encode("utf-8")) for t in paragraphs)
    n_chars = sum(len(t) for t in paragraphs)
    legacy_slice = read_paragraphs(data / "wikipedia_en", int(args.legacy_mb * 1e6))
    legacy_bytes = sum(len(t.encode("utf-8")) for t in legacy_slice)
    legacy_chars = sum(len(t) for t in legacy_slice)
    print(f"{len(paragraphs)} paragraphs, {n_bytes / 1e6:.2f} MB, {n_chars:,} chars; vocab {vocab_dir.name} "
          f"(do_lower_case={lower}); legacy slice {len(legacy_slice)} paragraphs, {legacy_bytes / 1e6:.2f} MB",
          flush=True)

    # transformers 5 ignores vocab_file= here: pass the vocabulary itself.
    fast = BertTokenizerFast(vocab=vocab, do_lower_case=lower, tokenize_chinese_chars=True, strip_accents=None)
    assert fast.get_vocab() == vocab, "BertTokenizerFast did not load the vocabulary"
    backend = fast.backend_tokenizer
    legacy = BertTokenizerLegacy(vocab_file=str(vocab_dir / "vocab.txt"), do_lower_case=lower)

    def fresh():
        return Tokenizer.from_pretrained(vocab_dir)

    chunks = [c for t in paragraphs for c in t.split()]
    distinct = len(set(chunks))
    print(f"{distinct:,} distinct whitespace-separated chunks of {len(chunks):,} ({distinct / len(chunks):.1%}): "
          "bertkit's cache runs the full pipeline once per distinct chunk, even when cold", flush=True)
    results: dict = {"machine": machine(), "chunks": len(chunks), "distinct_chunks": distinct, "vocab": vocab_dir.name, "paragraphs": len(paragraphs),
                     "bytes": n_bytes, "chars": n_chars, "legacy_bytes": legacy_bytes, "legacy_chars": legacy_chars,
                     "repeats": args.repeats, "runs": {}}
    errors: list[str] = []

    def record(key, seconds, nbytes, nchars, ids):
        tokens = sum(len(x) for x in ids)
        results["runs"][key] = {"seconds": seconds, "MB_per_s": nbytes / 1e6 / seconds,
                                "chars_per_s": nchars / seconds, "tokens_per_s": tokens / seconds, "tokens": tokens}
        print(f"  {key:28s} {seconds:8.3f} s  {nbytes / 1e6 / seconds:7.3f} MB/s  {nchars / seconds:12,.0f} chars/s"
              f"  {tokens / seconds:12,.0f} tokens/s", flush=True)

    for offsets in (False, True):
        suffix = "+offsets" if offsets else ""
        print(f"-- {'with' if offsets else 'without'} offsets", flush=True)
        t, f_out = best_of(args.repeats, lambda: None, lambda _: fast(
            paragraphs, add_special_tokens=True, return_offsets_mapping=offsets,
            return_token_type_ids=True, return_attention_mask=True))
        f_ids = f_out["input_ids"]
        record("fast" + suffix, t, n_bytes, n_chars, f_ids)

        # The Rust engine alone: tokenizers' encode_batch, then the Python lists a caller needs (no BatchEncoding).
        def raw(_):
            encs = backend.encode_batch(paragraphs, add_special_tokens=True)
            return [e.ids for e in encs], [e.offsets for e in encs] if offsets else None

        t, (r_ids, r_offsets) = best_of(args.repeats, lambda: None, raw)
        record("tokenizers raw" + suffix, t, n_bytes, n_chars, r_ids)
        errors.append(first_mismatch(f"tokenizers raw{suffix} vs BertTokenizerFast", paragraphs, r_ids, f_ids))
        del r_ids, r_offsets

        t, encs = best_of(args.repeats, fresh, lambda tok: tok.encode_batch(paragraphs, return_offsets=offsets))
        record("bertkit cold" + suffix, t, n_bytes, n_chars, [e.input_ids for e in encs])
        errors.append(first_mismatch(f"bertkit{suffix} input_ids vs fast", paragraphs,
                                     [e.input_ids for e in encs], f_ids))
        if offsets:
            errors.append(first_mismatch("bertkit offsets vs fast offset_mapping", paragraphs,
                                         [[tuple(o) for o in e.offsets] for e in encs],
                                         [[tuple(o) for o in x] for x in f_out["offset_mapping"]]))
        warm = fresh()
        warm.encode_batch(paragraphs, return_offsets=offsets)  # fills the per-word cache
        t, encs = best_of(args.repeats, lambda: warm,
                          lambda tok: tok.encode_batch(paragraphs, return_offsets=offsets))
        record("bertkit warm" + suffix, t, n_bytes, n_chars, [e.input_ids for e in encs])
        errors.append(first_mismatch(f"bertkit warm{suffix} input_ids vs fast", paragraphs,
                                     [e.input_ids for e in encs], f_ids))
        del f_out, encs

    # Worst case for bertkit's cache: every whitespace chunk of the input once (first-occurrence order), 60 a line.
    uniq = list(dict.fromkeys(chunks))
    distinct_text = [" ".join(uniq[i : i + 60]) for i in range(0, len(uniq), 60)]
    d_bytes = sum(len(t.encode("utf-8")) for t in distinct_text)
    d_chars = sum(len(t) for t in distinct_text)
    results["distinct_bytes"], results["distinct_chars"] = d_bytes, d_chars
    print(f"-- distinct chunks only ({d_bytes / 1e6:.2f} MB; no chunk repeats, so no cache hits across words)",
          flush=True)
    t, d_out = best_of(args.repeats, lambda: None, lambda _: fast(distinct_text, add_special_tokens=True))
    record("fast (distinct)", t, d_bytes, d_chars, d_out["input_ids"])
    t, encs = best_of(args.repeats, fresh, lambda tok: tok.encode_batch(distinct_text))
    record("bertkit cold (distinct)", t, d_bytes, d_chars, [e.input_ids for e in encs])
    errors.append(first_mismatch("bertkit vs fast (distinct chunks)", distinct_text,
                                 [e.input_ids for e in encs], d_out["input_ids"]))
    del d_out, encs

    print("-- legacy slice (no offsets: the legacy tokenizer has none)", flush=True)
    reps = max(1, min(2, args.repeats))
    t, l_out = best_of(reps, lambda: None, lambda _: legacy(legacy_slice, add_special_tokens=True))
    record("legacy", t, legacy_bytes, legacy_chars, l_out["input_ids"])
    t, encs = best_of(args.repeats, fresh, lambda tok: tok.encode_batch(legacy_slice))
    record("bertkit cold (legacy slice)", t, legacy_bytes, legacy_chars, [e.input_ids for e in encs])
    f_slice = fast(legacy_slice, add_special_tokens=True)["input_ids"]
    agree = [i for i in range(len(legacy_slice)) if l_out["input_ids"][i] == f_slice[i]]
    results["legacy_fast_disagreements"] = len(legacy_slice) - len(agree)
    errors.append(first_mismatch("bertkit vs legacy (where the references agree)", [legacy_slice[i] for i in agree],
                                 [encs[i].input_ids for i in agree], [l_out["input_ids"][i] for i in agree]))

    runs = results["runs"]
    ratios = {
        "bertkit_cold/fast": runs["bertkit cold"]["MB_per_s"] / runs["fast"]["MB_per_s"],
        "bertkit_warm/fast": runs["bertkit warm"]["MB_per_s"] / runs["fast"]["MB_per_s"],
        "bertkit_cold/fast (offsets)": runs["bertkit cold+offsets"]["MB_per_s"] / runs["fast+offsets"]["MB_per_s"],
        "bertkit_warm/fast (offsets)": runs["bertkit warm+offsets"]["MB_per_s"] / runs["fast+offsets"]["MB_per_s"],
        "bertkit_cold/tokenizers_raw": runs["bertkit cold"]["MB_per_s"] / runs["tokenizers raw"]["MB_per_s"],
        "bertkit_cold/tokenizers_raw (offsets)": runs["bertkit cold+offsets"]["MB_per_s"]
        / runs["tokenizers raw+offsets"]["MB_per_s"],
        "bertkit_cold/fast (distinct chunks)": runs["bertkit cold (distinct)"]["MB_per_s"]
        / runs["fast (distinct)"]["MB_per_s"],
        "bertkit_cold/legacy (legacy slice)": runs["bertkit cold (legacy slice)"]["MB_per_s"]
        / runs["legacy"]["MB_per_s"],
    }
    results["ratios"] = ratios
    errors = [e for e in errors if e]
    results["identical"] = not errors
    results["errors"] = errors
    print("-- ratios (throughput, >1 means bertkit is faster)")
    for k, v in ratios.items():
        print(f"  {k:36s} {v:6.3f}")
    print("note: fast = BertTokenizerFast batch call (Rust on 1 thread + conversion to Python lists); tokenizers raw "
          "= its Rust backend's encode_batch + .ids/.offsets lists; cold = fresh bertkit Tokenizer (empty word "
          f"cache) per run; warm = same text again with the cache filled; best of {args.repeats}; only the encode "
          "call is timed.")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    if errors:
        print("OUTPUTS DIFFER:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    print(f"outputs identical (ids; offsets in the offsets run); legacy/fast disagree on "
          f"{results['legacy_fast_disagreements']} paragraphs of the legacy slice")
    return 0


if __name__ == "__main__":
    sys.exit(main())
