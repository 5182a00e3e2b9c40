"""Time to quality: a finished ``bertkit pretrain`` run against ``transformers`` BertForPreTraining trained on
the same instance stream for the same wall time, then both scored on the same held-out instances.

The reference is a plain PyTorch loop as a user of ``transformers`` writes it: fp32, AdamW (no decay on biases
and LayerNorm), the run's peak learning rate, warmup ratio and linear decay, gradient clipping at 1.0, the
full MLM decoder (``labels`` with -100). Its batches come from bertkit's own instance stream (same seed, so
the same sentence pairs and masks, in the same order), made in a background thread as bertkit's are. Its
schedule runs on the clock (warmup over the first ``warmup_ratio`` of the time, then linear decay to zero at the
end), so it uses its whole budget whatever its speed.

Then the paradigm check, two ways, each for (a) the bertkit checkpoint, (b) the reference, (c) the same
architecture at random init: ``compare`` fits a linear probe on frozen mean-pooled last-layer features
(L2-regularised logistic regression, accuracy on the 872 SST-2 dev sentences); ``finetune`` fine-tunes each
with bertkit's fine-tuning loop (``bertkit finetune --task classify``, one added layer on the pooled [CLS]) on
the first ``--train-limit`` SST-2 training sentences, the same settings and seed for all three, and reports
the best dev accuracy of its epochs.

    # at the same time, one core each (the same resources and the same interference for both):
    OMP_NUM_THREADS=1 taskset -c 0 bertkit pretrain --data STORE --output RUN --config CONFIG [--set ...]
    OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/time_to_quality.py reference --store STORE \
        --config CONFIG [--set ...] --seconds SECONDS_OF_THE_BERTKIT_RUN --output REF
    # then
    .venv/bin/python benchmarks/time_to_quality.py compare --store STORE --run RUN --reference REF
    .venv/bin/python benchmarks/time_to_quality.py finetune --run RUN --reference REF [--set train.lr=1e-4 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write_json  # noqa: E402

from bertkit.config import RunConfig  # noqa: E402
from bertkit.convert import load_pretrained  # noqa: E402
from bertkit.data.masking import MaskingVocab  # noqa: E402
from bertkit.data.pretraining import PretrainingData, SpecialIds  # noqa: E402
from bertkit.data.store import TokenStore  # noqa: E402
from bertkit.data.tasks.tsv import read_tsv  # noqa: E402
from bertkit.model import BertModel  # noqa: E402
from bertkit.tasks.features import EmbedOptions, embed_texts  # noqa: E402
from bertkit.tasks.pretraining import dense_mlm_labels  # noqa: E402
from bertkit.tokenizer import Tokenizer  # noqa: E402
from bertkit.train.loop import _Prefetch  # noqa: E402
from bertkit.utils.paths import shared_data_dir  # noqa: E402


def build_data(run_cfg: RunConfig, store: TokenStore, tok: Tokenizer) -> PretrainingData:
    vocab = MaskingVocab.from_tokens(tok.convert_ids_to_tokens(list(range(tok.vocab_size))), tok.mask_token)
    special = SpecialIds(tok.cls_token_id, tok.sep_token_id, tok.pad_token_id)
    tr = run_cfg.train
    return PretrainingData(store, run_cfg.data, vocab, special, seed=tr.seed, batch_size=tr.batch_size,
                           grad_accum=tr.grad_accum)


def train_reference(run_cfg: RunConfig, data: PretrainingData, vocab_size: int, seconds: float):
    """transformers BertForPreTraining, plain fp32 loop, for ``seconds`` of wall time."""
    import transformers

    tr = run_cfg.train
    cfg = run_cfg.bert_config(vocab_size)
    torch.manual_seed(tr.seed)
    model = transformers.BertForPreTraining(transformers.BertConfig(**cfg.to_dict())).train()
    groups = [{"params": [p for p in model.parameters() if p.ndim >= 2], "weight_decay": tr.weight_decay},
              {"params": [p for p in model.parameters() if p.ndim < 2], "weight_decay": 0.0}]
    lr = run_cfg.resolved_lr()
    opt = torch.optim.AdamW(groups, lr=lr, betas=(tr.adam_beta1, tr.adam_beta2), eps=tr.adam_epsilon)
    # The schedule runs on the clock: progress = elapsed / seconds, warmup over the first warmup_ratio of the
    # time, then linear decay to 0 at the end, so the reference uses its whole budget whatever its speed.
    t0, step = time.perf_counter(), 0

    def set_lr() -> None:
        p = (time.perf_counter() - t0) / seconds
        w = tr.warmup_ratio
        factor = min(1.0, (p + 1e-9) / w) if p < w else max(0.0, (1 - p) / max(1e-9, 1 - w))
        for g in opt.param_groups:
            g["lr"] = lr * factor

    stream = _Prefetch(data.batches(None))
    try:
        while time.perf_counter() - t0 < seconds:
            micro, _ = next(stream)
            set_lr()
            n_mlm = sum(int(b.mlm_positions.numel()) for b in micro)
            n_seq = sum(b.size for b in micro)
            for b in micro:
                out = model(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids)
                labels = dense_mlm_labels(b)
                mlm = torch.nn.functional.cross_entropy(out.prediction_logits.flatten(0, 1), labels.flatten(),
                                                        ignore_index=-100, reduction="sum") / n_mlm
                nsp = torch.nn.functional.cross_entropy(out.seq_relationship_logits, b.next_sentence_label,
                                                        reduction="sum") / n_seq
                (mlm + nsp).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tr.max_grad_norm)
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
    finally:
        stream.close()
    return model.eval(), {"steps": step, "seconds": time.perf_counter() - t0}


@torch.no_grad()
def score(model, batches, hf: bool) -> dict[str, float]:
    """Held-out MLM accuracy / loss and NSP accuracy, over the same fixed instances and masks."""
    model.eval()
    hit = n = nsp_hit = nseq = 0
    loss = 0.0
    for b in batches:
        if hf:
            out = model(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids)
            logits = out.prediction_logits.flatten(0, 1)[b.mlm_positions]
        else:
            out = model(b.input_ids, b.attention_mask, b.token_type_ids, mlm_positions=b.mlm_positions)
            logits = out.prediction_logits
        loss += float(torch.nn.functional.cross_entropy(logits.float(), b.mlm_labels, reduction="sum"))
        hit += int((logits.argmax(-1) == b.mlm_labels).sum())
        n += len(b.mlm_labels)
        nsp_hit += int((out.seq_relationship_logits.argmax(-1) == b.next_sentence_label).sum())
        nseq += b.size
    return {"mlm_accuracy": hit / n, "mlm_loss": loss / n, "nsp_accuracy": nsp_hit / nseq}


def probe(encoder, tok: Tokenizer, train: list[tuple[str, int]], dev: list[tuple[str, int]]) -> float:
    """Linear probe: logistic regression on frozen mean-pooled features; dev accuracy."""
    opts = EmbedOptions(pooling="mean", normalize=False, batch_size=128, max_length=128)

    def feats(rows):
        out = np.zeros((len(rows), encoder.config.hidden_size), np.float32)
        for pos, vec in embed_texts(encoder, tok, [t for t, _ in rows], opts):
            out[pos] = vec
        return torch.from_numpy(out)

    xtr, xdev = feats(train), feats(dev)
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    xtr, xdev = (xtr - mu) / sd, (xdev - mu) / sd
    ytr = torch.tensor([y for _, y in train])
    w = torch.zeros(xtr.shape[1], 2, requires_grad=True)
    b = torch.zeros(2, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xtr @ w + b, ytr) + 1e-3 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    pred = (xdev @ w + b).argmax(-1)
    return float((pred == torch.tensor([y for _, y in dev])).float().mean())


def sst2(n_train: int) -> tuple[list, list]:
    d = shared_data_dir() / "glue_sst2"
    rows = []
    for name in ("train.tsv.gz", "dev.tsv"):
        table = read_tsv(d / name)
        s, lab = table.header.index("sentence"), table.header.index("label")
        rows.append([(r[s], int(r[lab])) for r in table.rows])
    return rows[0][:n_train], rows[1]


def _cell(row: dict, key: str, width: int, fmt: str) -> str:
    return format(format(row[key], fmt) if key in row else "-", f">{width}")


def cmd_reference(args) -> int:
    """Train the transformers reference for the given wall time and save it (HF save_pretrained)."""
    run_cfg = RunConfig.from_yaml(args.config)
    if args.set:
        run_cfg = run_cfg.with_overrides(args.set)
    store = TokenStore.open(args.store)
    tok = Tokenizer.from_pretrained(store.tokenizer_dir)
    ref, info = train_reference(run_cfg, build_data(run_cfg, store, tok), tok.vocab_size, args.seconds)
    ref.save_pretrained(args.output)
    tok.save_pretrained(args.output)
    run_cfg.to_yaml(args.output / "run_config.yaml")
    (args.output / "reference_summary.json").write_text(json.dumps(info, indent=2))
    print(f"transformers: {info['steps']} steps in {info['seconds']:.0f} s (fp32); saved {args.output}")
    return 0


def cmd_compare(args) -> int:
    """Score the bertkit run and the saved reference on the same held-out instances, then the SST-2 probes."""
    import transformers

    run_cfg = RunConfig.from_yaml(args.run / "run_config.yaml")
    summary = json.loads((args.run / "run_summary.json").read_text())
    ref_info = json.loads((args.reference / "reference_summary.json").read_text())
    store = TokenStore.open(args.store)
    tok = Tokenizer.from_pretrained(store.tokenizer_dir)
    data = build_data(run_cfg, store, tok)
    eval_batches = data.eval_batches(run_cfg.train.batch_size // run_cfg.train.grad_accum)
    ours, _ = load_pretrained(args.run)
    ref = transformers.BertForPreTraining.from_pretrained(args.reference).eval()
    rows = {"bertkit": score(ours, eval_batches, hf=False) | {"steps": summary["steps"],
                                                              "seconds": summary["seconds"]},
            "transformers": score(ref, eval_batches, hf=True) | ref_info}
    train, dev = sst2(args.probe_train)
    ours_enc, _ = load_pretrained(args.run, model_cls=BertModel)
    ref_enc, _ = load_pretrained(args.reference, model_cls=BertModel)
    torch.manual_seed(run_cfg.train.seed)
    random_enc = BertModel(ours_enc.config).eval()
    rows["bertkit"]["sst2_probe_accuracy"] = probe(ours_enc, tok, train, dev)
    rows["transformers"]["sst2_probe_accuracy"] = probe(ref_enc, tok, train, dev)
    rows["random init"] = {"sst2_probe_accuracy": probe(random_enc, tok, train, dev)}

    print(f"{'':14} {'steps':>6} {'seconds':>8} {'MLM acc':>8} {'MLM loss':>9} {'NSP acc':>8} {'SST-2 probe':>12}")
    for name, r in rows.items():
        cells = [_cell(r, k, w, fmt) for k, w, fmt in (("steps", 6, ""), ("seconds", 8, ".0f"),
                                                       ("mlm_accuracy", 8, ".4f"), ("mlm_loss", 9, ".4f"),
                                                       ("nsp_accuracy", 8, ".4f"), ("sst2_probe_accuracy", 12, ".4f"))]
        print(f"{name:14} " + " ".join(cells))
    write_json(args.json, {"machine": machine(), "run": str(args.run), "config": run_cfg.to_dict(),
                           "eval_instances": sum(b.size for b in eval_batches), "results": rows})
    return 0


FINETUNE_SETS = ("train.lr=1e-4",)  # small models fine-tune with larger steps (Turc et al. 2019: 1e-4..3e-5)


def cmd_finetune(args) -> int:
    """Fine-tune the bertkit run, the reference and a random init of the same architecture on SST-2."""
    import tempfile

    from bertkit.cli.finetune import finetune
    from bertkit.cli.task_families import FAMILIES
    from bertkit.config import FinetuneConfig
    from bertkit.convert import save_pretrained

    sets = [f"data.train_limit={args.train_limit}", *FINETUNE_SETS, *args.set]
    cfg = FinetuneConfig.default().with_overrides(sets)
    d = shared_data_dir() / "glue_sst2"
    rows = {}
    with tempfile.TemporaryDirectory(prefix="ttq-ft-") as tmp:
        encoder, tok = load_pretrained(args.run, model_cls=BertModel)
        torch.manual_seed(cfg.train.seed)
        random_dir = save_pretrained(BertModel(encoder.config), Path(tmp) / "random-init", tok)
        starts = {"bertkit": args.run, "transformers": args.reference, "random init": random_dir}
        for name, start in starts.items():
            if start is None:
                continue
            r = finetune(FAMILIES["classify"], cfg, start, d / "train.tsv.gz", d / "dev.tsv",
                         Path(tmp) / ("finetuned-" + name.replace(" ", "-")), progress=False)
            rows[name] = {"sst2_dev_accuracy": r["best"]["metrics"]["accuracy"], "best_epoch": r["best"]["epoch"],
                          "seconds": r["seconds"], "dtype": r["dtype"]}
            print(f"{name:14} SST-2 dev accuracy {rows[name]['sst2_dev_accuracy']:.4f} (best epoch "
                  f"{r['best']['epoch']}, {r['seconds']:.0f} s, {r['dtype']})", flush=True)
    write_json(args.json, {"machine": machine(), "run": str(args.run), "reference": str(args.reference),
                           "finetune_sets": sets, "train_examples": args.train_limit, "results": rows})
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reference", help="train transformers BertForPreTraining for --seconds and save it")
    r.add_argument("--store", type=Path, required=True)
    r.add_argument("--config", type=Path, required=True, help="the bertkit run's YAML config")
    r.add_argument("--set", action="append", default=[], help="the same --set overrides as the bertkit run")
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--output", type=Path, required=True)
    c = sub.add_parser("compare", help="score a bertkit run and a saved reference; SST-2 probes")
    c.add_argument("--store", type=Path, required=True)
    c.add_argument("--run", type=Path, required=True, help="a finished bertkit pretrain output folder")
    c.add_argument("--reference", type=Path, required=True)
    c.add_argument("--probe-train", type=int, default=20000)
    c.add_argument("--json", type=Path, default=Path("runs/bench/time_to_quality.json"))
    f = sub.add_parser("finetune", help="fine-tune a bertkit run, a reference and a random init on SST-2")
    f.add_argument("--run", type=Path, required=True)
    f.add_argument("--reference", type=Path, default=None)
    f.add_argument("--train-limit", type=int, default=20000, help="first N SST-2 training sentences")
    f.add_argument("--set", action="append", default=[], help="more fine-tuning overrides (section.key=value)")
    f.add_argument("--json", type=Path, default=Path("runs/bench/time_to_quality_finetune.json"))
    args = ap.parse_args()
    return {"reference": cmd_reference, "compare": cmd_compare, "finetune": cmd_finetune}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
