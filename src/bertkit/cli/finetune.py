"""``bertkit finetune``: one pretrained model + one added layer for a task (Devlin et al. 2018, section 4):
classify, regress, ner, qa, choice.

BERT's recipe by default (AdamW lr 2e-5, eps 1e-6, weight decay 0.01, 10% warmup then linear decay, clip 1.0,
batch 32, 3 epochs, max length 128, QA 384; config.FINETUNE_TRAIN), every setting overridable through the
config sections (``--config`` YAML, then the named flags, then ``--set section.key=value``). After each epoch
the model is evaluated on ``--dev``; the best epoch (by the task's headline metric) is OUTPUT, a Hugging Face
directory with config.json carrying the labels, beside train_log.jsonl, train_curves.png and results.json.
OUTPUT appears only when the run has finished. ``--seeds 1,2,3`` runs each seed into OUTPUT/seed-N and reports
the median and inter-quartile range of every metric.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from bertkit.cli.options import add_column_options, column_sets, describe, positive_float, positive_int
from bertkit.utils.errors import BertkitError

log = logging.getLogger(__name__)

RESULTS_NAME = "results.json"
SEEDS_NAME = "seeds.json"


TASKS = ("classify", "regress", "ner", "qa", "choice")  # the keys of task_families.FAMILIES (tested)


def add_parser(sub) -> None:
    p = sub.add_parser("finetune", help="fine-tune a model on a task (classify, regress, ner, qa, choice)",
                       description=describe(__doc__))
    p.add_argument("--task", required=True, choices=TASKS, help="the task family")
    p.add_argument("--model", required=True, type=Path, help="pretrained model folder (Hugging Face layout)")
    p.add_argument("--train", required=True, type=Path, help="training file")
    p.add_argument("--dev", type=Path, help="dev file, evaluated after every epoch (the best epoch is kept)")
    p.add_argument("--output", required=True, type=Path, help="folder for the fine-tuned model (must not exist "
                   "or be empty)")
    p.add_argument("--config", type=Path, help="YAML with sections model, data, train")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override any config field, e.g. --set train.lr=3e-5 (repeatable)")
    p.add_argument("--seed", type=int, help="seed for the head init, data order and dropout (train.seed)")
    p.add_argument("--seeds", help="comma-separated seeds: one run each into OUTPUT/seed-N, then median and IQR")
    p.add_argument("--epochs", type=positive_int, help="passes over the training file (train.epochs)")
    p.add_argument("--lr", type=positive_float, help="peak learning rate (train.lr)")
    p.add_argument("--batch-size", type=positive_int, help="examples per optimizer step (train.batch_size)")
    p.add_argument("--max-length", type=positive_int, help="tokens per sequence (data.max_seq_length)")
    add_column_options(p)
    p.add_argument("--compile", action="store_true", help="torch.compile the training steps (train.compile)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def resolve_config(args):
    from bertkit.config import FinetuneConfig

    named = {"train.seed": args.seed, "train.epochs": args.epochs, "train.lr": args.lr,
             "train.batch_size": args.batch_size, "data.max_seq_length": args.max_length,
             "train.compile": "true" if args.compile else None}
    sets = [f"{k}={v}" for k, v in named.items() if v is not None] + column_sets(args)
    cfg = FinetuneConfig.from_yaml(args.config) if args.config is not None else FinetuneConfig.default()
    cfg = cfg.with_overrides(sets + list(args.overrides))
    if "preset" in cfg.model:
        raise BertkitError("model.preset: the model's size comes from --model; the model section only changes "
                           "fields such as classifier_dropout")
    return cfg


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise BertkitError(f"--seeds {text!r}: expected comma-separated whole numbers, e.g. 1,2,3") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise BertkitError(f"--seeds {text!r}: expected distinct seeds, e.g. 1,2,3")
    return seeds


def _check_output(output: Path) -> None:
    if output.exists() and not output.is_dir():
        raise BertkitError(f"{output}: is a file; --output names a folder for the fine-tuned model")
    if output.exists() and any(output.iterdir()):
        what = "a model" if (output / "config.json").exists() else "files"
        raise BertkitError(f"{output}: already holds {what}; choose a new or empty --output")


def run(args) -> int:
    from bertkit.cli.task_families import family

    cfg = resolve_config(args)
    fam = family(args.task)
    _check_output(args.output)
    if args.seeds:
        seeds = _seeds(args.seeds)
        results = []
        with _staged(args.output) as stage:
            for s in seeds:
                r = finetune(fam, cfg.with_overrides([f"train.seed={s}"]), args.model, args.train, args.dev,
                             stage / f"seed-{s}", progress=not args.no_progress)
                results.append(r)
                print(_summary_line(r, stage / f"seed-{s}"), flush=True)
            summary = seed_summary(results)
            (stage / SEEDS_NAME).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"{len(seeds)} seeds ({args.output}):")
        for name, st in summary["metrics"].items():
            print(f"  {name:14s} median {st['median']:.4f}  IQR {st['q1']:.4f}-{st['q3']:.4f}  "
                  f"(min {st['min']:.4f}, max {st['max']:.4f})")
        return 0
    result = finetune(fam, cfg, args.model, args.train, args.dev, args.output, progress=not args.no_progress)
    print(_summary_line(result, args.output))
    return 0


def _summary_line(r: dict, output: Path) -> str:
    best = r.get("best")
    head = (f"fine-tuned {r['task']} on {r['train_examples']} examples: {r['epochs']} epoch(s), {r['steps']} steps "
            f"in {r['seconds']:.0f} s ({r['dtype']})")
    if best:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in best["metrics"].items() if isinstance(v, float)
                          and k not in ("loss",))
        head += f"; best dev (epoch {best['epoch']:g}): {shown}"
    return f"{head}; model in {output}"


def seed_summary(results: list[dict]) -> dict:
    """Median and inter-quartile range of every numeric best-dev metric over the seeds' results."""
    import numpy as np

    names = [k for k, v in (results[0].get("best") or {}).get("metrics", {}).items() if isinstance(v, (int, float))
             and k not in ("step", "loss")]
    out = {}
    for k in names:
        vals = np.array([r["best"]["metrics"][k] for r in results], dtype=float)
        q1, med, q3 = np.percentile(vals, [25, 50, 75])
        out[k] = {"median": float(med), "q1": float(q1), "q3": float(q3), "min": float(vals.min()),
                  "max": float(vals.max()), "values": vals.tolist()}
    return {"seeds": [r["seed"] for r in results], "metrics": out,
            "seconds": [r["seconds"] for r in results]}


class _staged:
    """A temporary folder beside ``final`` that replaces it on success and is removed on failure."""

    def __init__(self, final: Path):
        self.final = final

    def __enter__(self) -> Path:
        parent = self.final.parent if str(self.final.parent) else Path(".")
        parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.", suffix=".tmp", dir=parent))
        return self.tmp

    def __exit__(self, kind, value, tb) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        if self.final.is_dir():
            self.final.rmdir()  # checked empty before the run
        os.replace(self.tmp, self.final)


def finetune(fam, cfg, model_dir: Path, train_path: Path, dev_path: Path | None, output: Path, *,
             progress: bool = True) -> dict:
    """Fine-tune ``model_dir`` for task family ``fam`` per ``cfg`` (a FinetuneConfig) into ``output``.

    Returns the results (also written to OUTPUT/results.json): examples, steps, seconds, dtype and the best
    evaluation {"step", "epoch", "metrics"} (None without a dev file).
    """
    import torch

    from bertkit.cli.task_families import check_max_length
    from bertkit.convert import load_for_finetuning
    from bertkit.convert.hf import write_pretrained
    from bertkit.data.finetune import FinetuneData
    from bertkit.tasks.inference import run_features
    from bertkit.train import dist as tdist
    from bertkit.train.checkpoint import RUN_CONFIG_NAME
    from bertkit.train.loop import BEST_NAME, LoopSettings, Trainer, autocast_dtype
    from bertkit.train.optim import resolve_warmup

    if cfg.data.group_by_length is None:  # the task's default, written into run_config.yaml as resolved
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, group_by_length=fam.group_by_length))
    tr, dc = cfg.train, cfg.data
    _check_output(output)
    train_ex = fam.read(train_path, dc, limit=dc.train_limit)
    if not train_ex:
        raise BertkitError(f"{train_path}: no training examples")
    labels = fam.labels_of(train_ex)
    dev_ex = fam.read(dev_path, dc, limit=dc.dev_limit) if dev_path is not None else None
    if dev_ex is not None and not dev_ex:
        raise BertkitError(f"{dev_path}: no examples")
    if dev_ex is not None and labels is not None:
        _check_dev_labels(fam, dev_ex, labels)
    info = tdist.setup(tr.device)
    try:
        torch.manual_seed(tr.seed)
        model, tok, report = load_for_finetuning(model_dir, fam.model_cls,
                                                 {**fam.config_update(labels), **cfg.model})
        if tok is None:
            raise BertkitError(f"{model_dir}: no vocab.txt, so no tokenizer to fine-tune with")
        if info.is_main and report.initialised:
            log.warning("%s: new %s head %s initialised for fine-tuning (seed %d)", model_dir, fam.name,
                        ", ".join(report.initialised), tr.seed)
        check_max_length(fam, dc, model.config)
        train_feats = fam.encode(tok, train_ex, dc, labels, training=True)
        dev_feats = fam.encode(tok, dev_ex, dc, labels, training=False) if dev_ex is not None else None
        data = FinetuneData(train_feats, batch_size=tr.batch_size, grad_accum=tr.grad_accum, seed=tr.seed,
                            pad_id=tok.pad_token_id, label_kind=fam.label_kind, epochs=tr.epochs or 1,
                            group_by_length=dc.group_by_length, rank=info.rank, world_size=info.world_size)
        per_epoch = data.steps_per_epoch
        if tr.epochs is None:  # train.max_steps alone: as many epochs as those steps need
            data.epochs = -(-tr.max_steps // per_epoch)
        total = per_epoch * data.epochs
        if tr.max_steps is not None:
            total = min(total, tr.max_steps)
        dtype = autocast_dtype(tr.dtype, info.device)

        def evaluator(m) -> dict:
            outs = run_features(m, dev_feats, tok.pad_token_id, device=info.device, dtype=dtype)
            return fam.score(fam.decode(outs, dev_feats, dev_ex, labels, dc), dev_ex, labels)

        settings = LoopSettings(
            total_steps=total, lr=tr.lr or 2e-5, warmup_steps=resolve_warmup(tr.warmup_steps, tr.warmup_ratio, total),
            weight_decay=tr.weight_decay, betas=(tr.adam_beta1, tr.adam_beta2), eps=tr.adam_epsilon,
            max_grad_norm=tr.max_grad_norm, dtype=dtype, log_every=tr.log_every,
            eval_every=tr.eval_every or per_epoch, save_every=tr.save_every, keep_checkpoints=tr.keep_checkpoints,
            progress=progress, select_metric=fam.headline if dev_ex is not None else None, final_checkpoint=False,
            reuse_freed_memory=tr.reuse_freed_memory, packing=tr.packing, compile=tr.compile)
        with _staged(output) as stage:
            if info.is_main:
                cfg.to_yaml(stage / RUN_CONFIG_NAME)
            trainer = Trainer(model, fam.objective(), data, settings, stage, info,
                              evaluator=evaluator if dev_ex is not None else None, tokenizer=tok,
                              run_config=cfg.to_yaml_text(), title=f"{output.name}: {fam.name}")
            t0 = time.perf_counter()
            trainer.fit()
            seconds = time.perf_counter() - t0
            result = {"task": fam.name, "model": str(model_dir), "train": str(train_path),
                      "dev": str(dev_path) if dev_path else None, "train_examples": len(train_ex),
                      "dev_examples": len(dev_ex) if dev_ex is not None else None,
                      "train_features": len(train_feats), "seed": tr.seed, "steps": trainer.step,
                      "epochs": round(trainer.step / per_epoch, 3), "seconds": round(seconds, 2),
                      "dtype": str(dtype).removeprefix("torch."), "processes": info.world_size,
                      "initialised": report.initialised, "best": None}
            if info.is_main:
                if trainer.best is not None:
                    best = trainer.best
                    result["best"] = {"step": best["step"], "epoch": round(best["step"] / per_epoch, 3),
                                      "metrics": {k: v for k, v in best["metrics"].items() if k not in ("kind", "step")}}
                    _move_into(stage / BEST_NAME, stage)
                else:
                    write_pretrained(trainer.module, stage, tok)
                (stage / RESULTS_NAME).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            tdist.barrier(info)
        return result
    finally:
        tdist.teardown(info)


def _check_dev_labels(fam, dev_ex: list, labels: list[str]) -> None:
    known = set(labels)
    for ex in dev_ex:
        found = [ex.label] if hasattr(ex, "label") else (ex.tags or [])
        for lab in found:
            if lab is not None and lab not in known:
                raise BertkitError(f"{ex.where}: label {lab!r} was never seen in training "
                                   f"(labels: {', '.join(labels)})")


def _move_into(src: Path, dest: Path) -> None:
    """Move every file of ``src`` into ``dest`` (config.json last, so a directory with it is complete)."""
    names = sorted(p.name for p in src.iterdir())
    for name in [n for n in names if n != "config.json"] + ["config.json"]:
        os.replace(src / name, dest / name)
    src.rmdir()
