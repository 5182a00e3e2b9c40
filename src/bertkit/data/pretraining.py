"""The pretraining batch stream: instances made on the fly from a token store, re-drawn every epoch.

Epoch ``e`` visits the training documents in an order drawn from (seed, e), in blocks of
``shuffle_documents`` documents; block ``k``'s instances are made with a generator seeded by (seed, e, k) and
shuffled together; instance ``j`` of a block is masked with a generator seeded by (seed, e, k, j). So every
instance and its masks are a pure function of (seed, epoch, block, index): the stream is reproducible, and the
position ``{"epoch", "block", "offset"}`` is all a checkpoint needs to resume it exactly.

Every process walks the same global stream and keeps its own rows of each global batch (rows
``rank * G/world ...``), cut into ``grad_accum`` micro-batches. Held-out documents (the store's last ones)
give a fixed evaluation set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from bertkit.config import DataConfig
from bertkit.data.batch import Batch, pad_ids
from bertkit.data.instances import Instance, full_segments, pairs_from_document
from bertkit.data.masking import MaskingVocab, mask_tokens
from bertkit.utils.errors import BertkitError

_PAIRS, _MASKS, _ORDER, _EVAL = 1, 2, 3, 4  # stream tags in the seeds, so no two generators coincide


@dataclass(frozen=True)
class SpecialIds:
    cls: int
    sep: int
    pad: int


class PretrainingData:
    """Batches of MLM (+ NSP) instances for :class:`bertkit.train.loop.Trainer`.

    store: a :class:`bertkit.data.store.TokenStore` (or anything with ``document(d)`` and ``num_documents``).
    batch_size: the global batch (sequences per optimizer step); it must divide by world_size * grad_accum.
    """

    def __init__(self, store, cfg: DataConfig, vocab: MaskingVocab, special: SpecialIds, *, seed: int,
                 batch_size: int, grad_accum: int = 1, rank: int = 0, world_size: int = 1):
        if batch_size % (world_size * grad_accum):
            raise BertkitError(f"batch size {batch_size} does not divide into {world_size} process(es) x "
                               f"{grad_accum} accumulation step(s)")
        n = store.num_documents
        if n < 2:
            raise BertkitError(f"{getattr(store, 'path', 'token store')}: needs at least 2 documents, has {n}")
        n_eval = min(cfg.eval_documents, n // 10)
        self.store, self.cfg, self.vocab, self.special, self.seed = store, cfg, vocab, special, seed
        self.train_docs = np.arange(n - n_eval, dtype=np.int64)
        self.eval_docs = np.arange(n - n_eval, n, dtype=np.int64)
        self.batch_size, self.grad_accum, self.rank, self.world = batch_size, grad_accum, rank, world_size
        self.max_predictions = cfg.max_predictions or int(np.ceil(cfg.max_seq_length * cfg.mlm_probability))

    # ---- instances ------------------------------------------------------------------------------------------
    def _block(self, docs: np.ndarray, pool: np.ndarray, rng: np.random.Generator) -> list[Instance]:
        """The instances of one block of documents, shuffled; random B segments come from ``pool``."""
        cfg = self.cfg
        if not cfg.nsp:
            out = full_segments([self.store.document(int(d)) for d in docs], cfg.max_seq_length, self.special.sep)
        else:
            def random_document(r: np.random.Generator, d: int):
                for _ in range(10):
                    other = int(pool[r.integers(0, len(pool))])
                    if other != d:
                        break
                return self.store.document(other)

            out = []
            for d in docs:
                out += pairs_from_document(int(d), self.store.document(int(d)), random_document,
                                           cfg.max_seq_length, cfg.short_seq_prob, rng)
        return [out[i] for i in rng.permutation(len(out))]

    def _instances(self, state: dict | None) -> Iterator[tuple[Instance, tuple[int, int, int], dict]]:
        """(instance, its identity (epoch, block, index), the position after it), from ``state`` on, forever."""
        state = state or {"epoch": 0, "block": 0, "offset": 0}
        epoch, block, offset = state["epoch"], state["block"], state["offset"]
        size = self.cfg.shuffle_documents
        while True:
            order = np.random.default_rng([self.seed, epoch, _ORDER]).permutation(self.train_docs)
            n_blocks = -(-len(order) // size)
            whole_epoch, produced = block == 0 and offset == 0, False
            while block < n_blocks:
                rng = np.random.default_rng([self.seed, epoch, block, _PAIRS])
                instances = self._block(order[block * size:(block + 1) * size], self.train_docs, rng)
                produced = produced or bool(instances)
                for j in range(offset, len(instances)):
                    after = {"epoch": epoch, "block": block, "offset": j + 1}
                    yield instances[j], (epoch, block, j), after
                block, offset = block + 1, 0
            if whole_epoch and not produced:
                raise BertkitError("the training documents give no pretraining instance")
            epoch, block, offset = epoch + 1, 0, 0

    def _encode(self, inst: Instance, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                             np.ndarray, np.ndarray]:
        """[CLS] A [SEP] (B [SEP]) masked: (ids, token types, positions, labels, raw ids before masking)."""
        s = self.special
        parts = [[s.cls], inst.a, [s.sep]] + ([inst.b, [s.sep]] if len(inst.b) else [])
        ids = np.concatenate([np.asarray(p, dtype=np.int64) for p in parts])
        types = np.zeros(len(ids), dtype=np.int64)
        types[len(inst.a) + 2:] = 1
        maskable = (ids != s.cls) & (ids != s.sep) & (ids != s.pad)
        masked, pos, labels = mask_tokens(ids, maskable, self.vocab, rng, probability=self.cfg.mlm_probability,
                                          max_predictions=self.max_predictions,
                                          whole_word=self.cfg.whole_word_mask)
        return masked, types, pos, labels, ids

    def _collate(self, items: list[tuple[Instance, tuple[int, int, int]]], tag: int) -> Batch:
        rows, types, positions, labels, nsp = [], [], [], [], []
        for inst, ident in items:
            ids, tt, pos, lab, _ = self._encode(inst, np.random.default_rng([self.seed, *ident, tag]))
            rows.append(ids), types.append(tt), positions.append(pos), labels.append(lab)
            nsp.append(inst.is_random_next)
        ids, mask = pad_ids(rows, self.special.pad, pad_to_multiple_of=8)
        tt, _ = pad_ids(types, 0, length=ids.shape[1])
        L = ids.shape[1]
        flat = np.concatenate([p + r * L for r, p in enumerate(positions)])  # (M,) into B*L
        return Batch(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt),
                     mlm_positions=torch.from_numpy(flat.astype(np.int64)),
                     mlm_labels=torch.from_numpy(np.concatenate(labels).astype(np.int64)),
                     next_sentence_label=torch.tensor(nsp, dtype=torch.long) if self.cfg.nsp else None)

    # ---- the Trainer's interface ------------------------------------------------------------------------------
    def batches(self, state: dict | None) -> Iterator[tuple[list[Batch], dict]]:
        """This process's micro-batches of each global batch from ``state`` on, with the position after it."""
        per_rank = self.batch_size // self.world
        micro = per_rank // self.grad_accum
        lo = self.rank * per_rank
        it = self._instances(state)
        while True:
            step, after = [], None
            for _ in range(self.batch_size):
                inst, ident, after = next(it)
                step.append((inst, ident))
            mine = step[lo:lo + per_rank]
            yield [self._collate(mine[i:i + micro], _MASKS) for i in range(0, per_rank, micro)], after

    def eval_batches(self, batch_size: int) -> list[Batch]:
        """This process's share of the fixed held-out set (the same instances and masks every time)."""
        if not len(self.eval_docs):
            return []
        rng = np.random.default_rng([self.seed, 0, 0, _EVAL])
        instances = self._block(self.eval_docs, self.eval_docs, rng)[: self.cfg.eval_instances]
        items = [(inst, (0, 0, j)) for j, inst in enumerate(instances)][self.rank::self.world]
        return [self._collate(items[i:i + batch_size], _EVAL) for i in range(0, len(items), batch_size)]
