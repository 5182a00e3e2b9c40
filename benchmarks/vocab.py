"""Vocabulary training: bertkit's likelihood WordPiece trainer vs ``tokenizers``' WordPieceTrainer, same run.

Both learn a vocabulary of ``--vocab-size`` tokens from the same first ``--mb`` MB (UTF-8 bytes) of Wikipedia
paragraphs (shards ``enwiki_part00..07``, written once to a plain text file, one paragraph a line, which both
read as they train), with the same nominal options: uncased, min frequency 2, at most 1,000 characters, and
bert-base-uncased's 999 reserved tokens at its ids (``tokenizers`` gets them as ``special_tokens``, in order,
so both vocabularies have the same layout and the same number of learned tokens). Note that the options do
not mean quite the same: ``min_frequency`` is a word count for bertkit and a pair count for ``tokenizers``.

Each trainer runs in a subprocess of its own; its seconds are wall time of the training call plus writing
``vocab.txt`` (measured inside it, imports excluded) and its peak RSS is that process's ``VmHWM`` (which a
fork + exec starts afresh; ``ru_maxrss`` of the child would include the parent's pages shared before exec).
bertkit's worker reads the file through ``bertkit.data.corpus``, the reader of ``bertkit train-tokenizer``;
it runs twice: with the default score (the issue's ratio) and with ``--score loglik``.
``tokenizers`` is a count-based merge trainer (BPE with a ``##`` prefix): it adds the most frequent pair.

Quality is measured on articles held out of training (the last shard, ``enwiki_part08``, never read for
training): both vocabularies (and bert-base-uncased's for reference) are loaded into bertkit's Tokenizer, and
the held-out paragraphs are split; tokens per word = wordpieces / words of the basic tokenizer, [UNK] rate =
[UNK] tokens / words (an [UNK] always stands for a whole word).

Usage: python benchmarks/vocab.py [--mb 100] [--vocab-size 30522] [--heldout-mb 20] [--work DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import chain
from pathlib import Path

from bertkit.utils.paths import shared_data_dir
from common import machine, write_json  # benchmarks/common.py, beside this script

HERE = Path(__file__).resolve()


# ------------------------------------------------------------------------------------------------- workers
def worker_ours(text: Path, out: Path, vocab_size: int, score: str = "ratio") -> dict:
    from bertkit.cli.train_tokenizer import paragraphs
    from bertkit.tokenizer.trainer import TrainerConfig, train

    t0 = time.perf_counter()
    vocab = train(paragraphs([text], None), TrainerConfig(vocab_size=vocab_size, min_frequency=2,
                                                           limit_alphabet=1000, layout="bert", score=score))
    vocab.save(out)
    return {"seconds": time.perf_counter() - t0, "stats": vocab.stats}


def worker_tokenizers(text: Path, out: Path, vocab_size: int) -> dict:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    from bertkit.tokenizer.trainer import BERT_RESERVED

    t0 = time.perf_counter()
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=2, limit_alphabet=1000,
                                        special_tokens=list(BERT_RESERVED), continuing_subword_prefix="##",
                                        show_progress=False)
    tok.train([str(text)], trainer)
    tok.model.save(str(out))
    return {"seconds": time.perf_counter() - t0, "threads": os.environ.get("RAYON_NUM_THREADS", "default")}


def peak_rss_gb() -> float:
    """This process's peak resident set (VmHWM), which starts afresh at exec: the parent's pages do not count."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    raise SystemExit("no VmHWM in /proc/self/status")


def run_worker(kind: str, text: Path, out: Path, vocab_size: int, env: dict | None = None) -> dict:
    """Run one trainer in a child process: its result JSON (seconds, peak RSS) plus the child's CPU time."""
    out.mkdir(parents=True, exist_ok=True)
    result = out / "result.json"
    cmd = [sys.executable, str(HERE), "--worker", kind, "--input", str(text), "--out", str(out),
           "--vocab-size", str(vocab_size)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, "TOKENIZERS_PARALLELISM": "true", **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"worker {kind} failed (status {status})")
    got = json.loads(result.read_text())
    got.update(process_s=wall, cpu_s=usage.ru_utime + usage.ru_stime)
    return got


# ---------------------------------------------------------------------------------------------------- data
def write_training_text(folder: Path, max_bytes: int, path: Path) -> tuple[int, int]:
    """The first paragraphs of shards 00..07 up to ``max_bytes`` UTF-8 bytes, one a line, a blank line after
    each article (the plain-text format of ``bertkit.data.corpus``); returns (paragraphs, bytes)."""
    from bertkit.data.corpus import read_documents

    n = size = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for shard in sorted(folder.glob("enwiki_part0[0-7].txt.gz")):
            for doc in read_documents(shard):
                for para in doc:
                    f.write(para + "\n")
                    n += 1
                    size += len(para.encode("utf-8"))
                    if size >= max_bytes:
                        return n, size
                f.write("\n")
    raise SystemExit(f"only {size} bytes of paragraphs in shards 00..07 of {folder}, {max_bytes} asked for")


def heldout(folder: Path, max_bytes: int) -> list[str]:
    from bertkit.data.corpus import read_documents

    out, size = [], 0
    for para in chain.from_iterable(read_documents(folder / "enwiki_part08.txt.gz")):
        out.append(para)
        size += len(para.encode("utf-8"))
        if size >= max_bytes:
            break
    return out


def quality(vocab_file: Path, texts: list[str], n_words: int) -> dict:
    """Tokens per word and [UNK] rate of ``texts`` under a vocabulary (bertkit's Tokenizer, uncased)."""
    from bertkit.tokenizer import Tokenizer

    tok = Tokenizer.from_vocab(vocab_file, do_lower_case=True)
    ids = tok.encode_batch_ids(texts, add_special_tokens=False)
    n_tokens = sum(map(len, ids))
    unk = sum(x.count(tok.unk_token_id) for x in ids)
    return {"vocab_size": len(tok), "tokens": n_tokens, "words": n_words, "tokens_per_word": n_tokens / n_words,
            "unk_per_word": unk / n_words, "unk": unk}


# ---------------------------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=100.0, help="MB of training paragraphs (default 100)")
    p.add_argument("--vocab-size", type=int, default=30_522)
    p.add_argument("--heldout-mb", type=float, default=20.0, help="MB of held-out paragraphs (default 20: "
                                                                       "the whole last shard)")
    p.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    p.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    p.add_argument("--worker", choices=("ours", "ours-loglik", "tokenizers"), help=argparse.SUPPRESS)
    p.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        if args.worker == "tokenizers":
            result = worker_tokenizers(args.input, args.out, args.vocab_size)
        else:
            result = worker_ours(args.input, args.out, args.vocab_size, "loglik" if "loglik" in args.worker else "ratio")
        result["peak_rss_gb"] = peak_rss_gb()
        (args.out / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        return 0

    from bertkit.tokenizer.pretokenize import PreTokenizer

    data = shared_data_dir() / "wikipedia_en"
    work = args.work or Path(tempfile.mkdtemp(prefix="bertkit-vocab-bench."))
    work.mkdir(parents=True, exist_ok=True)
    text = work / "train.txt"
    n_paras, n_bytes = write_training_text(data, int(args.mb * 1e6), text)
    print(f"training text: {n_paras:,} paragraphs, {n_bytes / 1e6:.2f} MB -> {text}; vocab size {args.vocab_size:,}",
          flush=True)
    results: dict = {"machine": machine(), "train_paragraphs": n_paras, "train_bytes": n_bytes,
                     "vocab_size": args.vocab_size, "runs": {}}
    runs = results["runs"]
    runs["bertkit"] = run_worker("ours", text, work / "bertkit", args.vocab_size)
    print(f"  bertkit                 {runs['bertkit']['seconds']:7.1f} s  {runs['bertkit']['peak_rss_gb']:.2f} GB",
          flush=True)
    runs["bertkit_loglik"] = run_worker("ours-loglik", text, work / "bertkit_loglik", args.vocab_size)
    print(f"  bertkit --score loglik  {runs['bertkit_loglik']['seconds']:7.1f} s  "
          f"{runs['bertkit_loglik']['peak_rss_gb']:.2f} GB", flush=True)
    runs["tokenizers"] = run_worker("tokenizers", text, work / "tokenizers", args.vocab_size)
    print(f"  tokenizers              {runs['tokenizers']['seconds']:7.1f} s  "
          f"{runs['tokenizers']['peak_rss_gb']:.2f} GB", flush=True)
    runs["tokenizers_1thread"] = run_worker("tokenizers", text, work / "tokenizers1", args.vocab_size,
                                            {"RAYON_NUM_THREADS": "1"})
    print(f"  tokenizers (1 thread)   {runs['tokenizers_1thread']['seconds']:7.1f} s  "
          f"{runs['tokenizers_1thread']['peak_rss_gb']:.2f} GB", flush=True)

    texts = heldout(data, int(args.heldout_mb * 1e6))
    pre = PreTokenizer()
    n_words = sum(len(pre.words(t)) for t in texts)
    h_bytes = sum(len(t.encode("utf-8")) for t in texts)
    print(f"held out: {len(texts):,} paragraphs of enwiki_part08, {h_bytes / 1e6:.2f} MB, {n_words:,} words",
          flush=True)
    results.update(heldout_paragraphs=len(texts), heldout_bytes=h_bytes, heldout_words=n_words)
    vocabs = {"bertkit": work / "bertkit" / "vocab.txt", "bertkit --score loglik": work / "bertkit_loglik" / "vocab.txt",
              "tokenizers": work / "tokenizers" / "vocab.txt"}
    original = shared_data_dir() / "vocab" / "bert-base-uncased" / "vocab.txt"
    if original.is_file():
        vocabs["bert-base-uncased (reference)"] = original
    results["quality"] = {}
    print(f"  {'vocabulary':32s} {'tokens/word':>11s} {'[UNK]/word':>10s}")
    for name, path in vocabs.items():
        q = results["quality"][name] = quality(path, texts, n_words)
        print(f"  {name:32s} {q['tokens_per_word']:11.4f} {q['unk_per_word']:10.4%}", flush=True)
    ours, theirs = results["quality"]["bertkit"], results["quality"]["tokenizers"]
    results["tokens_per_word_ratio"] = ours["tokens_per_word"] / theirs["tokens_per_word"]
    results["tokens_per_word_ratio_loglik"] = (results["quality"]["bertkit --score loglik"]["tokens_per_word"]
                                               / theirs["tokens_per_word"])
    same = set(Path(vocabs["bertkit"]).read_text(encoding="utf-8").splitlines()) & set(
        Path(vocabs["tokenizers"]).read_text(encoding="utf-8").splitlines())
    results["shared_tokens"] = len(same)
    print(f"bertkit/tokenizers tokens per word: {results['tokens_per_word_ratio']:.4f} (ratio), "
          f"{results['tokens_per_word_ratio_loglik']:.4f} (loglik) (<1: fewer with bertkit); "
          f"{len(same):,} tokens in both vocabularies")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
