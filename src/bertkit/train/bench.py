"""``bertkit bench``: what this machine does with a BERT, measured on the spot.

The matmul peak in float32 and bf16 (one ``F.linear`` of the FFN's shape), then, for one model config: the
embedding forward (length-sorted batches as ``bertkit embed`` makes them), a fine-tuning step (random batches of
mixed lengths, the loop's own optimizer step) and a pretraining step (full-length MLM + NSP pairs, sparse MLM),
each as real tokens/s, MFU against the measured peak of its dtype, and the padding fraction with the route the
packed path picked for it. Inputs are random token ids of the model's vocabulary: the speed of a BERT does not
depend on which ids it reads.

FLOPs: 2 per non-embedding weight per token forward (x3 with backward), attention 4 L H per token and layer
(scores and weighted sum, L the sequence's own length), and the sparse MLM decoder 2 H V per masked position.
"""

from __future__ import annotations

import contextlib
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bertkit.config import BertConfig
from bertkit.data.batch import Batch, pad_ids
from bertkit.model import BertForPreTraining, BertForSequenceClassification, BertModel
from bertkit.train.dist import DistInfo
from bertkit.train.loop import LoopSettings, Objective, Trainer


@dataclass
class BenchRow:
    name: str
    dtype: str
    tokens_per_s: float
    mfu: float
    padding: float
    route: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def matmul_peak(dtype: torch.dtype, hidden: int, repeats: int = 5) -> float:
    """GFLOP/s of ``F.linear`` (2048, H) x (H, 4H) in ``dtype``, best of ``repeats`` after a warm-up, with H =
    max(hidden, 768): the machine's peak, which a small model's matmuls cannot show (MFU above 1 otherwise)."""
    hidden = max(hidden, 768)
    x, w = torch.randn(2048, hidden, dtype=dtype), torch.randn(4 * hidden, hidden, dtype=dtype)
    F.linear(x, w)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(4):
            F.linear(x, w)
        best = min(best, (time.perf_counter() - t0) / 4)
    return 2 * 2048 * hidden * 4 * hidden / best / 1e9


def _body_params(config: BertConfig) -> int:
    """Weights touched per token, embeddings left out: the encoder layers."""
    H, I = config.hidden_size, config.intermediate_size
    return config.num_hidden_layers * (4 * H * H + 2 * H * I)


def model_flops(config: BertConfig, lengths: np.ndarray, passes: int, masked: int = 0) -> float:
    """FLOPs of ``passes`` (1 forward, 3 forward + backward) over sequences of ``lengths``."""
    H = config.hidden_size
    tokens = float(lengths.sum())
    attention = 4.0 * H * config.num_hidden_layers * float((lengths.astype(np.float64) ** 2).sum())
    decoder = 2.0 * H * config.vocab_size * masked
    return passes * (2.0 * _body_params(config) * tokens + attention + decoder)


def random_batch(rng: np.random.Generator, config: BertConfig, lengths: list[int]) -> Batch:
    """[CLS] random ids [SEP] rows of ``lengths``, right-padded."""
    rows = [np.concatenate([[101], rng.integers(1000, config.vocab_size, n - 2), [102]]) for n in lengths]
    ids, mask = pad_ids(rows, 0)
    types = np.zeros_like(ids)
    return Batch(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))


def random_pretraining_batch(rng: np.random.Generator, config: BertConfig, size: int, length: int) -> Batch:
    """``size`` full-length sequences with 15% of positions as MLM targets and random NSP labels."""
    b = random_batch(rng, config, [length] * size)
    pos = torch.from_numpy(np.sort(rng.choice(b.input_ids.numel(), int(0.15 * b.input_ids.numel()), False)))
    b.mlm_positions, b.mlm_labels = pos, b.input_ids.flatten()[pos]
    b.next_sentence_label = torch.from_numpy(rng.integers(0, 2, size))
    return b


def _time(fn, repeats: int) -> float:
    fn()  # warm-up: first-call allocations and kernel selection
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _route_of(model: torch.nn.Module, batch: Batch, dtype: torch.dtype, grad: bool) -> str:
    """The route the model's encoder took for ``batch`` in its current mode, under the run's grad and dtype."""
    encoder = next(m for m in model.modules() if isinstance(m, BertModel))
    with torch.set_grad_enabled(grad), _autocast(dtype):
        return encoder.route(batch.attention_mask) or "padded"


def _padding(batches: list[Batch]) -> float:
    return 1.0 - sum(int(b.attention_mask.sum()) for b in batches) / sum(b.attention_mask.numel() for b in batches)


def _autocast(dtype: torch.dtype):
    """The training steps' autocast (the loop's): none in float32."""
    return torch.autocast("cpu", dtype=dtype) if dtype != torch.float32 else contextlib.nullcontext()


def run_bench(config: BertConfig, dtypes: list[torch.dtype], classify: Objective, pretrain: Objective, *,
              max_len: int = 128, repeats: int = 3, seed: int = 0) -> dict:
    """The matmul peak in float32 and bf16, then every measurement for ``config`` in each of ``dtypes`` (CPU);
    returns a JSON-ready dict. classify, pretrain: the objectives of the two training steps (sequence
    classification and MLM + NSP with sparse MLM, from bertkit.tasks, which this layer does not import)."""
    rng = np.random.default_rng(seed)
    max_len = min(max_len, config.max_position_embeddings)
    H = config.hidden_size
    peaks = {str(dt).removeprefix("torch."): matmul_peak(dt, H) for dt in (torch.float32, torch.bfloat16)}
    rows: list[BenchRow] = []

    # embedding forward: 512 sequences of 8..max_len tokens, sorted, batches of 64 (as bertkit embed)
    lengths = np.sort(rng.integers(8, max_len + 1, 512))
    embed_batches = [random_batch(rng, config, list(lengths[i:i + 64])) for i in range(0, len(lengths), 64)]
    # fine-tuning: 4 random batches of 32, 16..max_len tokens; pretraining: 2 batches of 32 x max_len
    ft_lengths = [list(rng.integers(16, max_len + 1, 32)) for _ in range(4)]
    ft_batches = [random_batch(rng, config, ls) for ls in ft_lengths]
    for b in ft_batches:
        b.labels = torch.from_numpy(rng.integers(0, 2, b.size))
    pt_batches = [random_pretraining_batch(rng, config, 32, max_len) for _ in range(2)]
    masked = sum(len(b.mlm_positions) for b in pt_batches)

    for dtype in dtypes:
        name = str(dtype).removeprefix("torch.")
        peak = peaks[name] * 1e9
        torch.manual_seed(seed)
        enc = BertModel(config).to(dtype).eval()
        with torch.inference_mode():
            t = _time(lambda: [enc(b.input_ids, b.attention_mask, b.token_type_ids) for b in embed_batches], repeats)
        flops = model_flops(config, lengths, 1)
        rows.append(BenchRow("embed (inference)", name, float(lengths.sum()) / t, flops / t / peak,
                             _padding(embed_batches), _route_of(enc, embed_batches[-1], dtype, False)))
        with tempfile.TemporaryDirectory() as out:
            for label, model, objective, batches, lens, m in (
                ("fine-tune step", BertForSequenceClassification(config), classify, ft_batches,
                 np.concatenate(ft_lengths), 0),
                ("pretrain step", BertForPreTraining(config), pretrain, pt_batches,
                 np.full(32 * len(pt_batches), max_len), masked)):
                settings = LoopSettings(total_steps=10**6, lr=1e-5, warmup_steps=0, dtype=dtype, progress=False,
                                        reuse_freed_memory=False)
                trainer = Trainer(model, objective, None, settings, Path(out) / label.split()[0], DistInfo())
                t = _time(lambda: [trainer.train_step([b]) for b in batches], repeats)
                rows.append(BenchRow(label, name, float(lens.sum()) / t, model_flops(config, lens, 3, m) / t / peak,
                                     _padding(batches), _route_of(model, batches[0], dtype, True)))
    return {"config": {k: getattr(config, k) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                                        "intermediate_size", "vocab_size")},
            "max_len": max_len, "threads": torch.get_num_threads(), "matmul_gflops": peaks,
            "rows": [r.as_dict() for r in rows],
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}
