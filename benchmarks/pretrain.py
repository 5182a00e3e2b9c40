"""Pretraining-step throughput: bertkit's training step vs transformers ``BertForPreTraining`` on the same batches.

Builds bertkit's BertForPreTraining from a seed, saves it (``bertkit.convert.save_pretrained``) and loads that
directory with ``transformers.BertForPreTraining.from_pretrained``, so both start from identical weights. The
batches are real: BERT sentence pairs (NSP labels, 15% masked, 80/10/10) made by
``bertkit.data.pretraining.PretrainingData`` from Wikipedia articles (shared/data/wikipedia_en) tokenized with
bert-base-uncased, ``max_seq_length`` 128; transformers gets the same batch with dense ``labels`` (B, L),
-100 where nothing is predicted (``dense_mlm_labels``).

One timed unit is one full optimizer step: forward, loss, backward, clip to norm 1.0, AdamW step, zero_grad.
bertkit's step is the loop's own, ``Trainer.train_step`` (sparse MLM: the head scores only the masked
positions); the reference step is the same recipe written out for transformers (its loss, full MLM decoder
over every position; the same AdamW groups and settings). Each is run in float32 and under
``torch.autocast('cpu', dtype=torch.bfloat16)``. The variants are interleaved (A B C D A B C D ...) so that
load from other jobs hits them alike; the first ``--warmup`` rounds are not timed; tokens/s counts real
(non-pad) tokens and is the best of ``--repeats`` steps (the median is printed too).

Before timing, with the identical initial weights and dropout off (eval mode), the float32 losses (MLM + NSP)
and gradient norms of the two models on the same batch must agree (loss within 1e-5). Then a
``torch.profiler`` trace of one bertkit step of the first preset, float32 and bfloat16, is grouped by where its
self CPU time goes: each forward op by the module it ran in (embeddings, attention, FFN, MLM head, NSP,
...), each backward op by the forward op that made its autograd node (matched by sequence number), and the
clip, optimizer and zero_grad phases.

With ``--processes R`` every variant (float32 and bf16) is also timed as each library's user runs it, in a process
of its own, R rounds alternating (bertkit, transformers, bertkit, ...): bertkit's steps inside
``reuse_freed_memory`` as ``Trainer.fit`` runs them by default (glibc keeps freed memory for reuse), the
reference's with glibc's defaults, on the same batches (saved by this process) and initial weights. In the
interleaved run both share one process and so one allocator setting, glibc's defaults.

Usage: python benchmarks/pretrain.py [--presets mini base] [--batch-sizes 32 8] [--repeats 5] [--warmup 2]
                                     [--processes R] [--no-profile] [--json PATH]
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bertkit.config import BertConfig, DataConfig  # noqa: E402
from bertkit.convert import save_pretrained  # noqa: E402
from bertkit.data.batch import Batch  # noqa: E402
from bertkit.data.corpus import iter_documents  # noqa: E402
from bertkit.data.masking import MaskingVocab  # noqa: E402
from bertkit.data.pretraining import PretrainingData, SpecialIds  # noqa: E402
from bertkit.data.sentences import split_sentences  # noqa: E402
from bertkit.model import BertForPreTraining  # noqa: E402
from bertkit.tasks.pretraining import PretrainingObjective, dense_mlm_labels  # noqa: E402
from bertkit.tokenizer import Tokenizer  # noqa: E402
from bertkit.train.dist import DistInfo  # noqa: E402
from bertkit.train.loop import LoopSettings, Trainer  # noqa: E402
from bertkit.train.optim import build_optimizer  # noqa: E402
from bertkit.utils.malloc import reuse_freed_memory  # noqa: E402
from bertkit.utils.paths import shared_data_dir  # noqa: E402
from common import machine, write_json  # noqa: E402  (benchmarks/common.py, beside this script)

SEQ = 128
LR, BETAS, EPS, WEIGHT_DECAY, CLIP = 1e-4, (0.9, 0.999), 1e-6, 0.01, 1.0
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


# ---- data ---------------------------------------------------------------------------------------------------------
class _Store:
    """The token store interface PretrainingData reads (``document(d)``, ``num_documents``, ``path``), in memory."""

    def __init__(self, docs: list[list[np.ndarray]], path: str):
        self.docs, self.path = docs, path

    @property
    def num_documents(self) -> int:
        return len(self.docs)

    def document(self, d: int) -> list[np.ndarray]:
        return self.docs[d]


def wiki_store(tok: Tokenizer, n_docs: int) -> _Store:
    """The first ``n_docs`` Wikipedia articles, one uint16 id array per sentence (no special tokens)."""
    folder = shared_data_dir() / "wikipedia_en"
    docs = []
    for paragraphs in iter_documents(sorted(folder.glob("enwiki_part*.txt.gz"))):
        sentences = [s for p in paragraphs for s in split_sentences(p)]
        encs = tok.encode_batch(sentences, add_special_tokens=False)
        doc = [np.asarray(e.input_ids, dtype=np.uint16) for e in encs if e.input_ids]
        if len(doc) >= 2:
            docs.append(doc)
        if len(docs) == n_docs:
            return _Store(docs, str(folder))
    raise SystemExit(f"only {len(docs)} usable documents in {folder}, {n_docs} asked for")


def make_batches(store: _Store, tok: Tokenizer, batch_size: int, n: int, seed: int) -> list[Batch]:
    """``n`` batches of ``batch_size`` BERT pairs (MLM 15% + NSP, seq 128), the pretraining stream's first."""
    vocab = MaskingVocab.from_tokens(tok.convert_ids_to_tokens(list(range(tok.vocab_size))), tok.mask_token)
    special = SpecialIds(tok.cls_token_id, tok.sep_token_id, tok.pad_token_id)
    cfg = DataConfig(max_seq_length=SEQ, eval_documents=0)
    data = PretrainingData(store, cfg, vocab, special, seed=seed, batch_size=batch_size)
    stream = data.batches(None)
    return [next(stream)[0][0] for _ in range(n)]


# ---- the two steps ------------------------------------------------------------------------------------------------
class _NoData:
    """A BatchSource that is never read: the benchmark hands batches to ``train_step`` itself."""

    def batches(self, state):
        raise RuntimeError("not used")


def bertkit_trainer(model: BertForPreTraining, dtype: torch.dtype, output: Path) -> Trainer:
    settings = LoopSettings(total_steps=10**6, lr=LR, warmup_steps=0, weight_decay=WEIGHT_DECAY, betas=BETAS,
                            eps=EPS, max_grad_norm=CLIP, dtype=dtype, progress=False)
    return Trainer(model, PretrainingObjective(nsp=True, sparse=True), _NoData(), settings, output, DistInfo())


def bertkit_step(trainer: Trainer):
    """The loop's own optimizer step on one micro-batch."""
    return lambda batch: trainer.train_step([batch])


def hf_step(model, dtype: torch.dtype):
    """The same recipe for transformers: its loss (dense MLM + NSP means), backward, clip, AdamW, zero_grad."""
    opt = build_optimizer(model, lr=LR, weight_decay=WEIGHT_DECAY, betas=BETAS, eps=EPS)
    labels: dict[int, torch.Tensor] = {}

    def step(batch: Batch) -> float:
        model.train()
        dense = labels.setdefault(id(batch), dense_mlm_labels(batch))  # (B, L), -100 = no loss; not timed twice
        with _autocast(dtype):
            out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                        token_type_ids=batch.token_type_ids, labels=dense,
                        next_sentence_label=batch.next_sentence_label)
        out.loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(norm)

    return step


def _autocast(dtype: torch.dtype):
    return contextlib.nullcontext() if dtype is torch.float32 else torch.autocast("cpu", dtype=dtype)


# ---- agreement ----------------------------------------------------------------------------------------------------
def agreement(ours: BertForPreTraining, theirs, batch: Batch) -> dict:
    """float32 loss and gradient norm of both models on ``batch`` in eval mode (dropout off), identical weights."""
    obj = PretrainingObjective(nsp=True, sparse=True)
    ours.eval(), theirs.eval()
    sums = obj.loss_and_metrics(ours, batch)
    c = obj.counts(batch)
    loss_ours = sums["mlm_loss"] / c["mlm"] + sums["nsp_loss"] / c["nsp"]
    loss_ours.backward()
    out = theirs(input_ids=batch.input_ids, attention_mask=batch.attention_mask, token_type_ids=batch.token_type_ids,
                 labels=dense_mlm_labels(batch), next_sentence_label=batch.next_sentence_label)
    out.loss.backward()
    norms = [float(torch.nn.utils.clip_grad_norm_(m.parameters(), float("inf"))) for m in (ours, theirs)]
    for m in (ours, theirs):
        m.zero_grad(set_to_none=True)
    a, b = float(loss_ours.detach()), float(out.loss.detach())
    return {"loss_bertkit": a, "loss_transformers": b, "loss_abs_diff": abs(a - b), "grad_norm_bertkit": norms[0],
            "grad_norm_transformers": norms[1], "grad_norm_rel_diff": abs(norms[0] - norms[1]) / norms[1]}


# ---- timing -------------------------------------------------------------------------------------------------------
def interleaved(variants: dict, batches: list[Batch], warmup: int, repeats: int) -> dict[str, dict]:
    """Round r runs every variant once on batch r mod len(batches); rounds < warmup are not kept."""
    rates: dict[str, list[float]] = defaultdict(list)
    for r in range(warmup + repeats):
        batch = batches[r % len(batches)]
        for name, step in variants.items():
            t0 = time.perf_counter()
            step(batch)
            dt = time.perf_counter() - t0
            if r >= warmup:
                rates[name].append(batch.num_tokens / dt)
    return {name: rate_summary(v) for name, v in rates.items()}


def rate_summary(rates: list[float]) -> dict:
    """Best and median tokens/s of timed steps, and all of them."""
    return {"tokens_per_s": max(rates), "median_tokens_per_s": statistics.median(rates), "all": rates}


# ---- profile ------------------------------------------------------------------------------------------------------
GROUPS = ("embeddings", "attention", "FFN", "dropout+residual", "MLM head", "pooler+NSP", "model other", "loss")


def _module_groups(model: BertForPreTraining) -> list[tuple[torch.nn.Module, str]]:
    """(module, group) pairs; an op belongs to the innermost labelled module it ran in."""
    out = [(model, "model other"), (model.bert.embeddings, "embeddings"), (model.mlm, "MLM head"),
           (model.bert.pooler, "pooler+NSP"), (model.nsp, "pooler+NSP")]
    for layer in model.bert.layers:
        out += [(layer, "dropout+residual"), (layer.attn, "attention"), (layer.attn_norm, "attention"),
                (layer.ffn, "FFN"), (layer.ffn_norm, "FFN")]
    return out


@contextlib.contextmanager
def _labelled(model: BertForPreTraining):
    """Forward hooks that open a profiler range ``bk::<group>`` around each labelled module's forward."""
    handles = []
    for module, group in _module_groups(model):
        stack: list = []

        def pre(m, args, group=group, stack=stack):
            rf = torch.profiler.record_function(f"bk::{group}")
            rf.__enter__()
            stack.append(rf)

        def post(m, args, out, stack=stack):
            stack.pop().__exit__(None, None, None)

        handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _group_of(ev) -> tuple[str, str]:
    """(phase, label) of a profiler event from its nearest labelled ancestor."""
    e = ev
    while e is not None:
        if e.name.startswith("bk::"):
            return "forward", e.name[4:]
        if e.name.startswith("autograd::engine::evaluate_function"):
            return "backward", e.name
        if e.name.startswith("Optimizer.step"):
            return "optimizer", "AdamW step"
        if e.name.startswith("Optimizer.zero_grad"):
            return "optimizer", "zero_grad"
        e = e.cpu_parent
    return "top", ""


def _norm(op: str) -> str:
    """``aten::native_layer_norm`` and ``NativeLayerNorm`` -> ``nativelayernorm``."""
    return op.removeprefix("aten::").replace("_", "").lower()


def profile_step(step, batch: Batch, model: BertForPreTraining, top: int = 15) -> dict:
    """Self CPU time (ms) of one step by group and phase, and the top ops by self CPU time (a text table)."""
    from torch.profiler import ProfilerActivity, profile

    with _labelled(model):
        step(batch)  # warm the hooks' path
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            t0 = time.perf_counter()
            step(batch)
            wall = time.perf_counter() - t0
    events = [e for e in prof.events() if not e.is_async]
    phases = {id(e): _group_of(e) for e in events}
    # forward ops -> their group by sequence number, so each backward node lands in its forward op's group. Ops
    # that make no node share the number of the next node made, so the op named like the node is preferred.
    by_seq: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for e in events:
        phase, label = phases[id(e)]
        if phase == "forward" and e.sequence_nr >= 0:
            by_seq[e.sequence_nr].append((_norm(e.name), label))
    bw = [e for e in events if phases[id(e)][0] == "backward"]
    bw_end = max((e.time_range.end for e in bw), default=0)
    table: dict[str, dict[str, float]] = defaultdict(lambda: {"forward": 0.0, "backward": 0.0})
    for e in events:
        phase, label = phases[id(e)]
        ms = e.self_cpu_time_total / 1e3
        if phase == "forward":
            table[label]["forward"] += ms
        elif phase == "backward":
            node = e
            while not node.name.startswith("autograd::engine::evaluate_function"):
                node = node.cpu_parent
            made = by_seq.get(node.sequence_nr, [])
            want = _norm(re.sub(r"Backward\d*$", "", node.name.rsplit(" ", 1)[-1]))
            group = next((g for n, g in made if n == want), made[0][1] if made else None)
            if group is None:  # not made inside a labelled module: the loss (cross-entropy) or AccumulateGrad
                group = "AccumulateGrad" if "AccumulateGrad" in node.name else "loss"
            table[group]["backward"] += ms
        elif phase == "optimizer":
            table[label]["forward"] += ms
        else:  # the loop's own ops: before the backward pass the objective's loss, after it the clip
            table["loss" if e.time_range.start < bw_end else "clip grad norm"]["forward"] += ms
    total = sum(v["forward"] + v["backward"] for v in table.values())
    order = [*GROUPS, "AccumulateGrad", "clip grad norm", "AdamW step", "zero_grad"]
    rows = {g: table[g] for g in order if g in table} | {g: v for g, v in table.items() if g not in order}
    ops = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top, max_name_column_width=40)
    return {"wall_ms": wall * 1e3, "self_cpu_ms_total": total, "groups": rows, "top_ops": ops}


def print_profile(name: str, p: dict) -> None:
    print(f"\nprofile of one bertkit {name} step: {p['wall_ms']:.0f} ms wall (profiled), {p['self_cpu_ms_total']:.0f} ms "
          f"of op self time; by group (forward / backward ms, % of self time)")
    for g, v in p["groups"].items():
        s = v["forward"] + v["backward"]
        print(f"  {g:<18} {v['forward']:8.1f} {v['backward']:8.1f}   {100 * s / p['self_cpu_ms_total']:5.1f}%")


# ---- main ---------------------------------------------------------------------------------------------------------
def run_preset(preset: str, batch_size: int, store: _Store, tok: Tokenizer, args, tmp: Path) -> dict:
    import transformers

    batches = make_batches(store, tok, batch_size, args.batches, seed=0)
    config = BertConfig.preset(preset, vocab_size=tok.vocab_size)
    torch.manual_seed(0)
    ours = BertForPreTraining(config)
    save_pretrained(ours, tmp / preset)
    theirs = transformers.BertForPreTraining.from_pretrained(tmp / preset)
    check = agreement(ours, theirs, batches[0])
    real = sum(b.num_tokens for b in batches)
    cells = sum(b.input_ids.numel() for b in batches)
    masked = sum(b.mlm_positions.numel() for b in batches)
    print(f"\n{preset} ({config.num_hidden_layers} layers / {config.hidden_size} hidden / "
          f"{config.num_attention_heads} heads), batch {batch_size} x {batches[0].input_ids.shape[1]}: "
          f"{len(batches)} batches, {real / len(batches):.0f} real tokens a batch (padding {1 - real / cells:.1%}), "
          f"{masked / len(batches):.0f} masked; transformers attention: {theirs.config._attn_implementation}")
    print(f"  agreement (fp32, eval mode, identical weights): loss bertkit {check['loss_bertkit']:.7f} "
          f"transformers {check['loss_transformers']:.7f} |diff| {check['loss_abs_diff']:.1e}; grad norm "
          f"{check['grad_norm_bertkit']:.6f} vs {check['grad_norm_transformers']:.6f} "
          f"(rel {check['grad_norm_rel_diff']:.1e})")
    if check["loss_abs_diff"] > 1e-5 or check["grad_norm_rel_diff"] > 1e-4:
        raise SystemExit(f"{preset}: bertkit and transformers disagree: {check}")
    processes = None
    if args.processes:  # first, while this process holds no optimizer state
        torch.save(batches, tmp / f"{preset}-batches.pt")
        processes = own_processes(tmp / preset, tmp / f"{preset}-batches.pt", args)

    trainers = {d: bertkit_trainer(ours, DTYPES[d], tmp / f"{preset}-{d}") for d in DTYPES}
    variants = {f"transformers {d}": hf_step(theirs, DTYPES[d]) for d in DTYPES}
    variants |= {f"bertkit {d}": bertkit_step(trainers[d]) for d in DTYPES}
    timed = interleaved(variants, batches, args.warmup, args.repeats)
    ref32, ref16 = timed["transformers fp32"]["tokens_per_s"], timed["transformers bf16"]["tokens_per_s"]
    for v in timed.values():
        v["vs_transformers_fp32"], v["vs_transformers_bf16"] = v["tokens_per_s"] / ref32, v["tokens_per_s"] / ref16
    print(f"  {'variant':<18} {'tokens/s':>9} {'median':>9} {'vs tf fp32':>10} {'vs tf bf16':>10}   (best of "
          f"{args.repeats}, interleaved)")
    for name, v in timed.items():
        print(f"  {name:<18} {v['tokens_per_s']:9.0f} {v['median_tokens_per_s']:9.0f} "
              f"{v['vs_transformers_fp32']:10.2f} {v['vs_transformers_bf16']:10.2f}")
    out = {"batch_size": batch_size, "seq_len": int(batches[0].input_ids.shape[1]), "batches": len(batches),
           "real_tokens_per_batch": real / len(batches), "padding_fraction": 1 - real / cells,
           "masked_per_batch": masked / len(batches), "attn_implementation": theirs.config._attn_implementation,
           "agreement": check, "results": timed}
    if processes is not None:
        out["processes"] = processes
    if not args.no_profile and preset == args.presets[0]:
        out["profile"] = {d: profile_step(bertkit_step(trainers[d]), batches[0], ours) for d in DTYPES}
        for d, p in out["profile"].items():
            print_profile(d, p)
        print(f"\ntop ops by self CPU time, bertkit bf16 step:\n{out['profile']['bf16']['top_ops']}")
    return out


def own_processes(model_dir: Path, batches: Path, args) -> dict:
    """The steps of both libraries as their users run them, in float32 and under bf16 autocast, each in processes
    of its own, the order of the two alternating from round to round."""
    rates: dict[str, list[float]] = defaultdict(list)
    for r in range(args.processes):
        for d in DTYPES:
            for side in (("bertkit", "transformers") if r % 2 == 0 else ("transformers", "bertkit")):
                out = model_dir.parent / f"{model_dir.name}-{side}-{d}-{r}.json"
                cmd = [sys.executable, __file__, "--one", side, str(model_dir), str(batches), str(out),
                       "--one-dtype", d, "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
                subprocess.run(cmd, check=True)
                rates[f"{side} {d}"] += json.loads(out.read_text())
    res = {name: rate_summary(v) for name, v in rates.items()}
    print(f"  in processes of their own ({args.processes} rounds; bertkit with freed memory reused as Trainer.fit "
          f"runs it, transformers with glibc's defaults):")
    for d in DTYPES:
        ref = res[f"transformers {d}"]
        for side in ("transformers", "bertkit"):
            v = res[f"{side} {d}"]
            print(f"  {side + ' ' + d:<18} {v['tokens_per_s']:9.0f} {v['median_tokens_per_s']:9.0f} "
                  f"{v['tokens_per_s'] / ref['tokens_per_s']:10.2f}  (vs transformers {d}; median ratio "
                  f"{v['median_tokens_per_s'] / ref['median_tokens_per_s']:.2f})")
    return res


def one_process(side: str, model_dir: Path, batches_file: Path, out: Path, dtype: torch.dtype, args) -> None:
    """``--one``: time ``side``'s step in ``dtype`` on the saved batches in this process; write its tokens/s."""
    batches = torch.load(batches_file, weights_only=False)
    with tempfile.TemporaryDirectory(prefix="bertkit-bench-") as tmp:
        if side == "bertkit":
            from bertkit.convert import load_pretrained

            model, _ = load_pretrained(model_dir, model_cls=BertForPreTraining)
            step, memory = bertkit_step(bertkit_trainer(model, dtype, Path(tmp))), reuse_freed_memory()
        else:
            import transformers

            model = transformers.BertForPreTraining.from_pretrained(model_dir)
            step, memory = hf_step(model, dtype), contextlib.nullcontext()
        with memory:
            rates = interleaved({side: step}, batches, args.warmup, args.repeats)[side]["all"]
    out.write_text(json.dumps(rates))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", nargs="+", default=["mini", "base"])
    ap.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 8], help="one per preset")
    ap.add_argument("--repeats", type=int, default=5, help="timed steps per variant (best is reported)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    ap.add_argument("--batches", type=int, default=4, help="distinct batches, cycled")
    ap.add_argument("--documents", type=int, default=300, help="Wikipedia articles the batches are made from")
    ap.add_argument("--processes", type=int, default=0, metavar="R",
                    help="also time both dtypes in processes of their own, R rounds (see above)")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--one", nargs=4, metavar=("SIDE", "MODEL_DIR", "BATCHES", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--one-dtype", choices=tuple(DTYPES), default="fp32", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        side, model_dir, batches, out = args.one
        one_process(side, Path(model_dir), Path(batches), Path(out), DTYPES[args.one_dtype], args)
        return 0
    if args.processes < 0:
        ap.error("--processes must be >= 0")
    if len(args.batch_sizes) != len(args.presets):
        ap.error("give one --batch-sizes value per preset")

    tok = Tokenizer.from_pretrained(shared_data_dir() / "vocab" / "bert-base-uncased")
    store = wiki_store(tok, args.documents)
    results = {"machine": machine(), "threads": torch.get_num_threads(), "seq": SEQ, "warmup": args.warmup,
               "repeats": args.repeats, "presets": {}}
    print(f"bertkit vs transformers BertForPreTraining, one optimizer step (AdamW, clip {CLIP}), seq {SEQ}, "
          f"{torch.get_num_threads()} threads, {store.num_documents} Wikipedia articles")
    with tempfile.TemporaryDirectory(prefix="bertkit-bench-") as tmp:
        for preset, bs in zip(args.presets, args.batch_sizes):
            results["presets"][preset] = run_preset(preset, bs, store, tok, args, Path(tmp))
            gc.collect()
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
