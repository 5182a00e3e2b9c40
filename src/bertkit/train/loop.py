"""The one training loop, shared by pretraining and fine-tuning (STYLE.md §3.6; torchtitan, nanoGPT).

An *objective* supplies ``loss_and_metrics(model, batch) -> {name: sum}``, ``counts(batch) -> {key: n}``,
``LOSSES`` (the sums that make up the loss) and ``COUNTS`` (each sum's count key). For every step the loop
first sums the counts of all micro-batches over all processes, then back-propagates
``sum(loss_sum / global_count) * world_size`` per micro-batch (DDP averages gradients over processes), so the
gradient is that of the mean over the *global* step whatever the accumulation and the number of processes.

*Data* supplies ``batches(state) -> iterator of (micro_batches, state_after)``: this process's micro-batches
for each step, and the position after them (saved in checkpoints; ``state=None`` starts at the beginning).
Batches are made in a background thread while the model computes.

Evaluation is either the objective's sums over ``eval_data`` (pretraining: held-out MLM loss and accuracy) or an
``evaluator(model) -> metrics`` that decodes a whole dev set (fine-tuning: F1, MCC, EM ... need every prediction
at once), or both. With ``select_metric`` the loop keeps the best evaluated model as a Hugging Face directory
(``best/``; higher is better).

Mixed precision, accumulation, clipping, the schedule, evaluation, logging and checkpointing live only here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

import torch
from torch import Tensor, nn

from bertkit.convert.hf import save_pretrained
from bertkit.data.batch import Batch
from bertkit.model import compile_model, set_packing
from bertkit.train import checkpoint as ckpt
from bertkit.train.dist import DistInfo, all_reduce_sum, barrier, gather_objects
from bertkit.train.metrics import LOG_NAME, PLOT_NAME, JsonlLog, plot_curves
from bertkit.train.optim import build_optimizer, linear_schedule
from bertkit.utils.errors import BertkitError
from bertkit.utils.malloc import reuse_freed_memory

log = logging.getLogger(__name__)

BEST_NAME = "best"  # the best evaluated model, a Hugging Face directory inside the run folder


class Objective(Protocol):
    LOSSES: tuple[str, ...]
    COUNTS: dict[str, str]

    def counts(self, batch: Batch) -> dict[str, int]: ...

    def loss_and_metrics(self, model: nn.Module, batch: Batch) -> dict[str, Tensor]: ...


class BatchSource(Protocol):
    def batches(self, state: dict | None) -> Iterator[tuple[list[Batch], dict]]: ...


@dataclass
class LoopSettings:
    """What the loop needs beyond model, objective and data (built from a TrainConfig by the caller)."""

    total_steps: int
    lr: float
    warmup_steps: int
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-6
    max_grad_norm: float | None = 1.0
    dtype: torch.dtype = torch.float32  # autocast dtype; parameters and optimizer state stay float32
    log_every: int = 10
    eval_every: int | None = None
    save_every: int | None = None
    keep_checkpoints: int = 3
    progress: bool = True
    select_metric: str | None = None  # keep the model with the highest value of this evaluation metric
    final_checkpoint: bool = True  # save a resumable checkpoint at the end (besides those of save_every)
    reuse_freed_memory: bool = True  # glibc keeps freed memory while fit() runs (bertkit.utils.malloc)
    packing: str = "auto"  # how the encoder meets padding (bertkit.model.set_packing)
    compile: bool = False  # torch.compile the training forward and backward (bertkit.model.compile_model)


def autocast_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto`` -> bfloat16 on a GPU that has it and on a CPU with native bf16 instructions, else float32."""
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    if dtype is torch.float16 and device.type != "cuda":
        raise BertkitError("dtype float16 needs a GPU; on a CPU use bfloat16")
    return dtype


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 in /proc/cpuinfo (x86 Linux); False where that cannot be read."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


class Trainer:
    """Runs ``settings.total_steps`` optimizer steps of ``objective`` on ``data``.

    output: the run directory (train_log.jsonl, train_curves.png, checkpoints/); only rank 0 writes there.
    eval_data: a callable returning this process's evaluation batches (None: no evaluation of sums).
    evaluator: ``evaluator(model) -> {metric: value}`` run by the main process at each evaluation.
    tokenizer, run_config (YAML text): saved into every checkpoint.
    """

    def __init__(self, model: nn.Module, objective: Objective, data: BatchSource, settings: LoopSettings,
                 output: Path, dist: DistInfo, *, eval_data: Callable[[], Iterable[Batch]] | None = None,
                 evaluator: Callable[[nn.Module], dict[str, Any]] | None = None,
                 tokenizer: Any = None, run_config: str | None = None, title: str = ""):
        self.dist, self.settings, self.objective, self.data = dist, settings, objective, data
        self.output, self.tokenizer, self.run_config, self.title = output, tokenizer, run_config, title
        self.eval_data, self.evaluator = eval_data, evaluator
        self.best: dict[str, Any] | None = None  # {"step", "metrics"} of the model kept in best/
        self.non_finite: list[str] = []  # the sums of the last reduction that are not numbers (see _reduce)
        self.model = set_packing(model, settings.packing).to(dist.device)
        self.module = self.model  # the bare model (saving, evaluation)
        if dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            self.model = DistributedDataParallel(self.model, device_ids=[dist.device.index]
                                                 if dist.device.type == "cuda" else None)
        if settings.compile:  # the training steps only: evaluation runs self.module uncompiled (see evaluate)
            self.model = compile_model(self.model, dist.device, settings.packing)
        s = settings
        self.optimizer = build_optimizer(self.module, lr=s.lr, weight_decay=s.weight_decay, betas=s.betas,
                                         eps=s.eps)
        self.scheduler = linear_schedule(self.optimizer, s.warmup_steps, s.total_steps)
        self.scaler = torch.amp.GradScaler("cuda") if s.dtype is torch.float16 else None
        self.step = 0
        self.data_state: dict | None = None
        self.log = JsonlLog(output / LOG_NAME, output / "tensorboard") if dist.is_main else None

    # ---- state ------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The training state; ``rng`` holds every process's generators (their dropout streams differ, since
        each process draws masks for its own batch shapes), in rank order. Every process must call it."""
        return {"step": self.step, "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "rng": gather_objects(ckpt.rng_state(), self.dist),
                "data": self.data_state, "scaler": self.scaler.state_dict() if self.scaler is not None else None}

    def resume(self, path: Path) -> None:
        """Continue from checkpoint directory ``path``: weights, optimizer, schedule, RNGs, data position."""
        state = ckpt.load_state(path)
        ckpt.load_weights(self.module, path)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        rng = state["rng"] if isinstance(state["rng"], list) else [state["rng"]]
        if len(rng) != self.dist.world_size:  # the process count changed since the checkpoint
            log.warning("%s: saved by %d process(es), resumed on %d: the dropout streams restart from rank 0's "
                        "(the run continues, but not bit for bit)", path, len(rng), self.dist.world_size)
        ckpt.set_rng_state(rng[self.dist.rank] if self.dist.rank < len(rng) else rng[0])
        self.step, self.data_state = int(state["step"]), state["data"]
        if self.log is not None:
            self.log.truncate_after(self.step)

    def save(self) -> Path | None:
        path = None
        state = self.state_dict()
        if self.dist.is_main:
            path = ckpt.save_checkpoint(self.output / ckpt.CHECKPOINTS, self.step, self.module, state,
                                        tokenizer=self.tokenizer, run_config=self.run_config,
                                        keep=self.settings.keep_checkpoints)
        barrier(self.dist)
        return path

    # ---- the loop ---------------------------------------------------------------------------------------------
    def fit(self) -> dict[str, float]:
        """Train to ``total_steps``; returns the last evaluation's metrics (or the last train record's)."""
        with reuse_freed_memory(self.settings.reuse_freed_memory and self.dist.device.type == "cpu"):
            return self._fit()

    def _fit(self) -> dict[str, float]:
        s, dev = self.settings, self.dist.device
        stream = _Prefetch(self.data.batches(self.data_state))
        acc = _Sums(dev)
        tokens = torch.zeros((), dtype=torch.float64, device=dev)
        last: dict[str, float] = {}
        bar = _progress(s.total_steps, self.step, s.progress and self.dist.is_main)
        t_last, tok_last = time.perf_counter(), 0.0
        try:
            while self.step < s.total_steps:
                try:
                    micro, state_after = next(stream)
                except StopIteration:
                    raise BertkitError(f"the training data ran out after step {self.step}") from None
                grad_norm = self._train_step(micro, acc)
                tokens += sum(b.num_tokens for b in micro)
                self.step += 1
                self.data_state = state_after
                self.scheduler.step()
                if bar is not None:
                    bar.update(1)
                end = self.step == s.total_steps
                if self.step % s.log_every == 0 or end:
                    record = self._reduce(acc, "train")
                    all_reduce_sum(tokens, self.dist)
                    now = time.perf_counter()
                    record |= {"lr": self._lr_used(), "grad_norm": grad_norm,
                               "tokens_per_s": (float(tokens) - tok_last) / max(now - t_last, 1e-9),
                               "epoch": (state_after or {}).get("epoch"), "processes": self.dist.world_size}
                    tok_last = float(tokens)
                    self._write(record)
                    if self.non_finite and self.scaler is None:  # (float16's scaler skips such steps itself)
                        raise BertkitError(f"step {self.step}: {', '.join(self.non_finite)} is not a number "
                                           f"(training diverged, or an input is bad); lower train.lr or check "
                                           f"the data")
                    last = record
                    if bar is not None:
                        bar.set_postfix(loss=f"{record['loss']:.4f}", tok_s=f"{record['tokens_per_s']:.0f}")
                    acc = _Sums(dev)
                    t_last = time.perf_counter()
                pause = time.perf_counter()
                evaluates = self.eval_data is not None or self.evaluator is not None
                if evaluates and ((s.eval_every and self.step % s.eval_every == 0) or end):
                    last = self.evaluate()
                if (s.save_every and self.step % s.save_every == 0) or (end and s.final_checkpoint):
                    self.save()
                t_last += time.perf_counter() - pause  # evaluation and saving are not training throughput
        finally:
            stream.close()
            if bar is not None:
                bar.close()
        if self.log is not None:
            self.log.close()
            plot_curves(self.output / LOG_NAME, self.output / PLOT_NAME, self.title)
        return last

    def _lr_used(self) -> float:
        """The learning rate of the update just made (the scheduler has already moved on)."""
        return self.settings.lr * self.scheduler.lr_lambdas[0](self.step - 1)

    def train_step(self, micro: list[Batch]) -> float:
        """One optimizer step on ``micro`` outside :meth:`fit` (benchmarks, ``bertkit bench``): the loop's own step,
        nothing logged; returns the gradient norm."""
        return self._train_step(micro, _Sums(self.dist.device))

    def _train_step(self, micro: list[Batch], acc: "_Sums") -> float:
        s, dev, obj = self.settings, self.dist.device, self.objective
        self.model.train()
        per_batch = [obj.counts(b) for b in micro]
        keys = sorted({k for c in per_batch for k in c})
        totals = torch.tensor([sum(c.get(k, 0) for c in per_batch) for k in keys], dtype=torch.float64, device=dev)
        global_counts = dict(zip(keys, all_reduce_sum(totals, self.dist).tolist()))
        for i, (batch, batch_counts) in enumerate(zip(micro, per_batch)):
            batch = batch.to(dev, non_blocking=True)
            sync = contextlib.nullcontext()
            if self.dist.enabled and i < len(micro) - 1:
                sync = self.model.no_sync()  # gradients are all-reduced once, after the last micro-batch
            with sync:
                with _autocast(dev, s.dtype):
                    sums = obj.loss_and_metrics(self.model, batch)
                loss = sum(sums[n] / max(global_counts[obj.COUNTS[n]], 1) for n in obj.LOSSES)
                loss = loss * self.dist.world_size
                (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
            acc.add(sums, batch_counts, obj.COUNTS)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        norm = torch.nn.utils.clip_grad_norm_(self.module.parameters(), s.max_grad_norm or math.inf)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(norm)

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        """The objective's metrics over all of ``eval_data`` (every process's share) and the evaluator's, logged
        as kind=eval; with ``select_metric``, a better model than the best so far is saved into best/."""
        self.module.eval()
        if self.settings.compile:  # compiling set the shared module padded; evaluation packs as configured
            set_packing(self.module, self.settings.packing)
        try:
            record = self._evaluate()
        finally:
            if self.settings.compile:
                set_packing(self.module, "padded")
        self._write(record)
        self._keep_best(record)
        barrier(self.dist)
        return record

    def _evaluate(self) -> dict[str, Any]:
        record: dict[str, Any] = {"kind": "eval", "step": self.step}
        if self.eval_data is not None:
            acc = _Sums(self.dist.device)
            for batch in self.eval_data():
                batch = batch.to(self.dist.device)
                with _autocast(self.dist.device, self.settings.dtype):
                    sums = self.objective.loss_and_metrics(self.module, batch)
                acc.add(sums, self.objective.counts(batch), self.objective.COUNTS)
            record = self._reduce(acc, "eval")
        if self.evaluator is not None and self.dist.is_main:
            record |= self.evaluator(self.module)
        return record

    def _keep_best(self, record: dict[str, Any]) -> None:
        name = self.settings.select_metric
        if name is None or not self.dist.is_main:
            return
        value = record.get(name)
        if not isinstance(value, (int, float)) or math.isnan(value):
            raise BertkitError(f"evaluation gave no number for {name!r} (it has: {', '.join(record)})")
        if self.best is None or value > self.best["metrics"][name]:
            save_pretrained(self.module, self.output / BEST_NAME, self.tokenizer)
            self.best = {"step": self.step, "metrics": record}

    def _reduce(self, acc: "_Sums", kind: str) -> dict[str, Any]:
        """Means over every process of the accumulated sums; ``loss`` is the sum of the LOSSES means."""
        names = sorted(acc.sums)
        flat = torch.stack([acc.sums[n] for n in names] + [acc.counts[n] for n in names]) if names else None
        if flat is not None:
            all_reduce_sum(flat, self.dist)
        k = len(names)
        means = {n: float(flat[i] / flat[k + i]) if flat[k + i] > 0 else math.nan for i, n in enumerate(names)}
        # the same on every process (the sums are reduced): a sum that is not a number where items were counted
        self.non_finite = [n for i, n in enumerate(names) if flat[k + i] > 0 and not math.isfinite(float(flat[i]))]
        record: dict[str, Any] = {"kind": kind, "step": self.step}
        record["loss"] = sum(means.get(n, math.nan) for n in self.objective.LOSSES)
        record |= means
        return record

    def _write(self, record: dict[str, Any]) -> None:
        if self.log is not None:
            self.log.write(record)


class _Sums:
    """Running metric sums and their counts, kept as tensors (no host sync until a log step)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.sums: dict[str, Tensor] = {}
        self.counts: dict[str, Tensor] = {}

    def add(self, sums: dict[str, Tensor], counts: dict[str, int], count_of: dict[str, str]) -> None:
        for name, value in sums.items():
            v = value.detach().to(torch.float64)
            c = torch.tensor(float(counts[count_of[name]]), dtype=torch.float64, device=self.device)
            self.sums[name] = self.sums[name] + v if name in self.sums else v
            self.counts[name] = self.counts[name] + c if name in self.counts else c


def _autocast(device: torch.device, dtype: torch.dtype):
    if dtype is torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _progress(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, smoothing=0.1)


class _Prefetch:
    """Runs a batch iterator in a background thread, ``depth`` items ahead; errors surface in ``next``."""

    _END = object()

    def __init__(self, it: Iterator, depth: int = 2):
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(it,), daemon=True)
        self._thread.start()

    def _run(self, it: Iterator) -> None:
        try:
            for item in it:
                while not self._stop.is_set():
                    try:
                        self._q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._q.put((self._END, None))
        except BaseException as e:  # handed to the consumer
            self._q.put((None, e))

    def __iter__(self):
        return self

    def __next__(self):
        item, err = self._q.get()
        if err is not None:
            raise err
        if item is self._END:
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._q.get_nowait()


__all__ = ["Trainer", "LoopSettings", "Objective", "BatchSource", "autocast_dtype", "cpu_has_native_bf16"]
