"""GPU figures in one short run: BERT MLM+NSP pretraining steps and inference, bertkit against transformers (sdpa)
on the same device, batches and recipe, bf16 autocast.

Pretraining: bert-base and bert-large at seq 128 and 512 (full-length pairs, 15% MLM targets, NSP labels; the
speed of a step does not depend on which ids it reads, so the ids are random), one optimizer step each (AdamW,
clip 1.0): bertkit's loop step (``Trainer.train_step``: sparse MLM, packing auto) and transformers'
``BertForPreTraining`` with dense labels. tokens/s and MFU: (6 x non-embedding parameters x tokens + attention
+ the MLM decoder actually run) / time / the GPU's dense bf16 peak (``--peak-tflops``; H100 and H200: 989).
Inference: bert-base forward at batch 32 x 128, bf16 weights, both sides.

Before any timing the two models, with identical weights and dropout off, must give the same float32 loss on
one batch (within 1e-4), so both sides compute the same thing.

Made to fit a few minutes of device time: ``--steps`` timed steps after ``--warmup``, each size freed before the
next. A dry run on CPU with a tiny model checks the script: ``python benchmarks/gpu.py --device cpu --tiny``.

Usage: python benchmarks/gpu.py [--device cuda] [--steps 10] [--warmup 3] [--peak-tflops 989] [--json PATH]
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bertkit.config import BertConfig  # noqa: E402
from bertkit.convert import save_pretrained  # noqa: E402
from bertkit.model import BertForPreTraining, BertModel  # noqa: E402
from bertkit.tasks.pretraining import PretrainingObjective, dense_mlm_labels  # noqa: E402
from bertkit.train.bench import model_flops, random_pretraining_batch  # noqa: E402
from bertkit.train.dist import DistInfo  # noqa: E402
from bertkit.train.loop import LoopSettings, Trainer  # noqa: E402
from bertkit.train.optim import build_optimizer  # noqa: E402
from common import machine, write_json  # noqa: E402  (benchmarks/common.py, beside this script)

RUNS = [("base", 128, 128), ("base", 512, 32), ("large", 128, 64), ("large", 512, 16)]  # preset, seq, batch
TINY = [("tiny", 64, 8)]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(device, fn, warmup: int, steps: int) -> float:
    """Seconds per call of ``fn``, the median of ``steps`` after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def pretraining(preset: str, seq: int, batch: int, device, args, out: Path) -> dict:
    import transformers

    cfg = BertConfig.preset(preset, max_position_embeddings=max(512, seq))
    rng = np.random.default_rng(0)
    batches = [random_pretraining_batch(rng, cfg, batch, seq).to(device) for _ in range(2)]
    torch.manual_seed(0)
    ours = BertForPreTraining(cfg)
    save_pretrained(ours, out / preset)
    theirs = transformers.BertForPreTraining.from_pretrained(out / preset, attn_implementation="sdpa").to(device)
    ours.to(device)
    # agreement: float32, dropout off, identical weights, one batch
    ours.eval(), theirs.eval()
    b = batches[0]
    obj = PretrainingObjective(nsp=True, sparse=True)
    with torch.no_grad():
        sums, c = obj.loss_and_metrics(ours, b), obj.counts(b)
        a = float(sums["mlm_loss"] / c["mlm"] + sums["nsp_loss"] / c["nsp"])
        t = float(theirs(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids,
                         labels=dense_mlm_labels(b), next_sentence_label=b.next_sentence_label).loss)
    if abs(a - t) > 1e-4 * max(1.0, abs(t)):
        raise SystemExit(f"{preset} seq {seq}: losses disagree, bertkit {a} transformers {t}")
    settings = LoopSettings(total_steps=10**6, lr=1e-4, warmup_steps=0, dtype=torch.bfloat16, progress=False)
    trainer = Trainer(ours, PretrainingObjective(nsp=True, sparse=True), None, settings, out / "run", DistInfo(
        device=device))
    opt = build_optimizer(theirs, lr=1e-4, weight_decay=0.01, betas=(0.9, 0.999), eps=1e-6)
    dense = [dense_mlm_labels(x) for x in batches]
    cast = torch.autocast(device.type, dtype=torch.bfloat16)
    i = {"ours": 0, "theirs": 0}

    def step_ours():
        trainer.train_step([batches[i["ours"] % 2]])
        i["ours"] += 1

    def step_theirs():
        k = i["theirs"] % 2
        theirs.train()
        with cast:
            loss = theirs(input_ids=batches[k].input_ids, attention_mask=batches[k].attention_mask,
                          token_type_ids=batches[k].token_type_ids, labels=dense[k],
                          next_sentence_label=batches[k].next_sentence_label).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        i["theirs"] += 1

    tokens = batch * seq
    masked = len(batches[0].mlm_positions)
    lengths = np.full(batch, seq)
    row = {"preset": preset, "seq": seq, "batch": batch, "loss_bertkit": a, "loss_transformers": t}
    for name, fn, m in (("bertkit", step_ours, masked), ("transformers", step_theirs, tokens)):
        s = timed(device, fn, args.warmup, args.steps)
        row[name] = {"seconds": s, "tokens_per_s": tokens / s,
                     "mfu": model_flops(cfg, lengths, 3, m) / s / (args.peak_tflops * 1e12)}
    row["speedup"] = row["transformers"]["seconds"] / row["bertkit"]["seconds"]
    if device.type == "cuda":
        row["peak_memory_gb"] = torch.cuda.max_memory_allocated(device) / 1e9
    return row  # the models go with this frame; main() collects them before the next size


def inference(preset: str, seq: int, batch: int, device, args, out: Path) -> dict:
    import transformers

    cfg = BertConfig.preset(preset)
    rng = np.random.default_rng(1)
    b = random_pretraining_batch(rng, cfg, batch, seq).to(device)
    torch.manual_seed(0)
    ours = BertModel(cfg)
    save_pretrained(ours, out / f"{preset}-enc")
    theirs = transformers.BertModel.from_pretrained(out / f"{preset}-enc", attn_implementation="sdpa")
    ours, theirs = (m.to(device, torch.bfloat16).eval() for m in (ours, theirs))
    row = {"preset": preset, "seq": seq, "batch": batch}
    with torch.inference_mode():
        for name, fn in (("bertkit", lambda: ours(b.input_ids, b.attention_mask, b.token_type_ids)),
                         ("transformers", lambda: theirs(input_ids=b.input_ids, attention_mask=b.attention_mask,
                                                         token_type_ids=b.token_type_ids))):
            s = timed(device, fn, args.warmup, args.steps)
            row[name] = {"seconds": s, "tokens_per_s": batch * seq / s,
                         "mfu": model_flops(cfg, np.full(batch, seq), 1) / s / (args.peak_tflops * 1e12)}
        diff = (ours(b.input_ids, b.attention_mask, b.token_type_ids).last_hidden_state.float()
                - theirs(input_ids=b.input_ids, attention_mask=b.attention_mask,
                         token_type_ids=b.token_type_ids).last_hidden_state.float()).abs().max().item()
    row["max_abs_diff_bf16"] = diff
    row["speedup"] = row["transformers"]["seconds"] / row["bertkit"]["seconds"]
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak of the GPU (H100/H200: 989)")
    ap.add_argument("--tiny", action="store_true", help="a tiny model only: a dry run of the script")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    results = {"machine": machine(), "device": torch.cuda.get_device_name(device) if device.type == "cuda" else
               "cpu", "peak_tflops": args.peak_tflops, "pretraining": [], "inference": []}
    print(f"{results['device']}, bf16 autocast, median of {args.steps} steps after {args.warmup}")
    with tempfile.TemporaryDirectory() as d:
        for preset, seq, batch in (TINY if args.tiny else RUNS):
            try:
                r = pretraining(preset, seq, batch, device, args, Path(d))
            except torch.OutOfMemoryError:
                print(f"  pretrain {preset} seq {seq} x {batch}: out of memory, skipped")
                results["pretraining"].append({"preset": preset, "seq": seq, "batch": batch, "error": "OOM"})
                continue
            finally:
                gc.collect()
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats(device)
            results["pretraining"].append(r)
            print(f"  pretrain {preset:<5} seq {seq:<3} x {batch:<3}  bertkit {r['bertkit']['tokens_per_s']:9.0f} "
                  f"tok/s MFU {r['bertkit']['mfu']:5.1%}  transformers {r['transformers']['tokens_per_s']:9.0f} "
                  f"tok/s MFU {r['transformers']['mfu']:5.1%}  {r['speedup']:.2f}x")
        preset, seq, batch = ("tiny", 64, 8) if args.tiny else ("base", 128, 32)
        r = inference(preset, seq, batch, device, args, Path(d))
        results["inference"].append(r)
        print(f"  inference {preset} {batch} x {seq}  bertkit {r['bertkit']['tokens_per_s']:9.0f} tok/s  "
              f"transformers {r['transformers']['tokens_per_s']:9.0f} tok/s  {r['speedup']:.2f}x  "
              f"(max |diff| bf16 {r['max_abs_diff_bf16']:.3g})")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
