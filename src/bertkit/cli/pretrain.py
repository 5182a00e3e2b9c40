"""``bertkit pretrain``: MLM (+ NSP) pretraining from a token store (``bertkit prepare``), on one or several
processes (``torchrun``), resumable exactly.

The run config has three sections (model / data / train; bertkit.config.RunConfig): from ``--config`` YAML,
then the named flags, then ``--set section.key=value`` on top. The resolved config is written to
OUTPUT/run_config.yaml and into every checkpoint. At the end OUTPUT is a Hugging Face directory.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bertkit.cli.options import describe, positive_int
from bertkit.config import PRESETS
from bertkit.utils.errors import BertkitError

SUMMARY_NAME = "run_summary.json"  # steps, seconds of training (this invocation), dtype, final metrics

# Keys that may change between a run and its resumption (they do not change what the steps compute).
RESUMABLE_CHANGES = {"train.max_steps", "train.save_every", "train.eval_every", "train.keep_checkpoints",
                     "train.log_every", "train.device", "train.reuse_freed_memory", "train.compile"}


def add_parser(sub) -> None:
    p = sub.add_parser("pretrain", help="pretrain BERT (MLM + NSP) from a token store",
                       description=describe(__doc__))
    p.add_argument("--data", required=True, type=Path, help="token store folder (from bertkit prepare)")
    p.add_argument("--output", required=True, type=Path, help="run folder; a Hugging Face model at the end")
    p.add_argument("--config", type=Path, help="YAML run config (sections model, data, train)")
    p.add_argument("--preset", choices=PRESETS, help="model size (model.preset)")
    p.add_argument("--max-steps", type=positive_int, help="optimizer steps (train.max_steps)")
    p.add_argument("--batch-size", type=positive_int,
                   help="global batch: sequences per optimizer step over all processes (train.batch_size)")
    p.add_argument("--seed", type=int, help="seed for init, instances, masks and dropout (train.seed)")
    p.add_argument("--save-every", type=positive_int, help="checkpoint every N steps (train.save_every)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUTPUT")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override any config field, e.g. --set train.lr=5e-4 (repeatable)")
    p.add_argument("--compile", action="store_true", help="torch.compile the training steps (train.compile)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _flag_overrides(args) -> list[str]:
    named = {"model.preset": args.preset, "train.max_steps": args.max_steps, "train.batch_size": args.batch_size,
             "train.seed": args.seed, "train.save_every": args.save_every,
             "train.compile": "true" if args.compile else None}
    return [f"{k}={v}" for k, v in named.items() if v is not None] + list(args.overrides)


def _flatten(d: dict) -> dict[str, object]:
    return {f"{sec}.{k}": v for sec, fields in d.items() for k, v in fields.items()}


def resolve_config(args):
    """The run config of this invocation, and the checkpoint to resume from (or None)."""
    from bertkit.config import RunConfig
    from bertkit.train.checkpoint import CHECKPOINTS, RUN_CONFIG_NAME, latest_checkpoint

    output: Path = args.output
    overrides = _flag_overrides(args)
    if args.resume:
        ckpt = latest_checkpoint(output / CHECKPOINTS)
        if ckpt is None:
            raise BertkitError(f"--resume: no complete checkpoint in {output / CHECKPOINTS}")
        saved = RunConfig.from_yaml(ckpt / RUN_CONFIG_NAME)
        run = saved.with_overrides(overrides) if overrides else saved
        if args.config is not None:
            run = RunConfig.from_yaml(args.config).with_overrides(overrides)
        before = _flatten(saved.to_dict())
        changed = sorted(k for k, v in _flatten(run.to_dict()).items()
                         if before.get(k) != v and k not in RESUMABLE_CHANGES)
        if changed:
            raise BertkitError(f"--resume: the config differs from the checkpoint's in {', '.join(changed)}")
        return run, ckpt
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise BertkitError(f"{output}: already holds files (another run?); pass --resume to continue it "
                           "or choose an empty --output")
    run = RunConfig.from_yaml(args.config) if args.config is not None else RunConfig()
    return run.with_overrides(overrides) if overrides else run, None


def run(args) -> int:
    from bertkit.data.store import TokenStore

    run_cfg, ckpt = resolve_config(args)
    store = TokenStore.open(args.data)
    result = pretrain(run_cfg, store, args.output, resume_from=ckpt, progress=not args.no_progress)
    if result["is_main"]:
        ev = result["metrics"]
        parts = [f"{k} {ev[k]:.4f}" for k in ("loss", "mlm_accuracy", "nsp_accuracy") if k in ev]
        print(f"pretrained {result['steps']} steps in {result['seconds']:.0f} s; "
              f"{result['split']} {', '.join(parts)}; model in {args.output}")
    return 0


def pretrain(run_cfg, store, output: Path, *, resume_from: Path | None = None, progress: bool = True) -> dict:
    """Pretrain per ``run_cfg`` (a RunConfig) on ``store`` (a TokenStore) into ``output``.

    Returns {"metrics": last eval (or train) record, "split", "steps", "seconds", "is_main"}.
    """
    import torch

    from bertkit.config import BertConfig, RunConfig
    from bertkit.convert.hf import write_pretrained
    from bertkit.data.masking import MaskingVocab
    from bertkit.data.pretraining import PretrainingData, SpecialIds
    from bertkit.model import BertForMaskedLM, BertForPreTraining
    from bertkit.tasks.pretraining import PretrainingObjective
    from bertkit.tokenizer import Tokenizer
    from bertkit.train import dist as tdist
    from bertkit.train.checkpoint import RUN_CONFIG_NAME
    from bertkit.train.loop import LoopSettings, Trainer, autocast_dtype
    from bertkit.train.optim import resolve_warmup

    tr, dc = run_cfg.train, run_cfg.data
    if tr.max_steps is None:
        raise BertkitError("train.max_steps: pretraining runs a number of steps; set one (train.epochs is for "
                           "fine-tuning)")
    tokenizer = Tokenizer.from_pretrained(store.tokenizer_dir)
    config = run_cfg.bert_config(vocab_size=tokenizer.vocab_size)
    if resume_from is not None:
        saved = BertConfig.from_json_file(resume_from / "config.json")
        if saved.vocab_size != config.vocab_size:
            raise BertkitError(f"{store.path}: its tokenizer has {config.vocab_size} tokens but the checkpoint "
                               f"{resume_from} was trained with vocab_size {saved.vocab_size}")
    if dc.max_seq_length > config.max_position_embeddings:
        raise BertkitError(f"data.max_seq_length={dc.max_seq_length} exceeds model.max_position_embeddings="
                           f"{config.max_position_embeddings}")
    info = tdist.setup(tr.device)
    try:
        torch.manual_seed(tr.seed)  # the same initial weights on every process
        model = (BertForPreTraining if dc.nsp else BertForMaskedLM)(config)
        torch.manual_seed(tr.seed + 7919 * info.rank)  # a dropout stream of its own for each process
        vocab = MaskingVocab.from_tokens(tokenizer.convert_ids_to_tokens(list(range(tokenizer.vocab_size))),
                                         tokenizer.mask_token)
        special = SpecialIds(tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id)
        data = PretrainingData(store, dc, vocab, special, seed=tr.seed, batch_size=tr.batch_size,
                               grad_accum=tr.grad_accum, rank=info.rank, world_size=info.world_size)
        micro = tr.batch_size // info.world_size // tr.grad_accum
        eval_set = data.eval_batches(micro)
        settings = LoopSettings(
            total_steps=tr.max_steps, lr=run_cfg.resolved_lr(),
            warmup_steps=resolve_warmup(tr.warmup_steps, tr.warmup_ratio, tr.max_steps),
            weight_decay=tr.weight_decay, betas=(tr.adam_beta1, tr.adam_beta2), eps=tr.adam_epsilon,
            max_grad_norm=tr.max_grad_norm, dtype=autocast_dtype(tr.dtype, info.device), log_every=tr.log_every,
            eval_every=tr.eval_every or max(1, tr.max_steps // 10), save_every=tr.save_every,
            keep_checkpoints=tr.keep_checkpoints, progress=progress, reuse_freed_memory=tr.reuse_freed_memory,
            packing=tr.packing, compile=tr.compile)
        resolved = run_cfg.to_dict()
        resolved["train"]["lr"] = settings.lr
        final_cfg = RunConfig.from_dict(resolved)
        if info.is_main:
            output.mkdir(parents=True, exist_ok=True)
            final_cfg.to_yaml(output / RUN_CONFIG_NAME)
        tdist.barrier(info)
        trainer = Trainer(model, PretrainingObjective(nsp=dc.nsp), data, settings, output, info,
                          eval_data=(lambda: eval_set) if eval_set else None, tokenizer=tokenizer,
                          run_config=final_cfg.to_yaml_text(),
                          title=f"{output.name}: {config.num_hidden_layers}x{config.hidden_size}")
        if resume_from is not None:
            trainer.resume(resume_from)
        t0 = time.perf_counter()
        metrics = trainer.fit()
        seconds = time.perf_counter() - t0
        if info.is_main:
            _write_model_into(output, trainer.module, tokenizer, write_pretrained)
            summary = {"steps": trainer.step, "seconds": round(seconds, 2), "processes": info.world_size,
                       "dtype": str(settings.dtype).removeprefix("torch."), "final": metrics}
            (output / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        tdist.barrier(info)
        return {"metrics": metrics, "split": metrics.get("kind", "train"), "steps": trainer.step,
                "seconds": seconds, "is_main": info.is_main}
    finally:
        tdist.teardown(info)


def _write_model_into(output: Path, model, tokenizer, write_pretrained) -> None:
    """Make ``output`` itself a Hugging Face directory: files written beside, then renamed in (config last)."""
    tmp = Path(tempfile.mkdtemp(prefix=".model.", suffix=".tmp", dir=output))
    try:
        write_pretrained(model, tmp, tokenizer)
        names = sorted(p.name for p in tmp.iterdir())
        for name in [n for n in names if n != "config.json"] + ["config.json"]:
            os.replace(tmp / name, output / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

