"""Task examples -> token features -> Batches, for fine-tuning, evaluation and prediction.

One encoder per input shape: texts and pairs (classification, regression), pre-split words (NER: the label
on each word's first sub-token, -100 on the rest, as Devlin et al. 2018 section 5.3 and HF's
``run_ner.py``), question + context windows (extractive QA: ``run_qa.py``'s ``only_second`` truncation with
a stride, answer tokens found through the character offsets) and (context, candidate) pairs (multiple choice).
Training batches are length-grouped (shuffled, then sorted by length within mega-batches, then the batch order
shuffled; random batches where ``group_by_length`` is false, NER's default), inference batches are cut by a token
budget after sorting by length; both pad to the batch's longest sequence only.

Shapes: B batch, C candidates, L padded length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from bertkit.data.batch import Batch, pad_ids
from bertkit.data.examples import ChoiceExample, TextExample, WordsExample, score_value
from bertkit.data.tasks.squad import SquadExample
from bertkit.utils.errors import BertkitError

IGNORE = -100  # label of positions without a loss (not a word's first sub-token, specials, padding)
LABEL_KINDS = ("class", "score", "tokens", "span")
# Batches are padded to a multiple of this: oneDNN builds kernels per matmul shape, so one shape per length
# (L = 5, 6, 7, ...) costs a compile each and memory; eight lengths share one at a few pad tokens' cost.
PAD_MULTIPLE = 8


@dataclass
class Feature:
    """One model input: ids (L) or, for multiple choice, one id list per candidate (C x L_c).

    label: class id, score, token labels (L, IGNORE where no loss) or (start, end) token positions.
    example: index of the example it came from (QA contexts give several windows per example).
    offsets: QA only, the character span in the context of each token, None outside the context.
    word_starts: NER only, the position of each kept word's first sub-token.
    """

    input_ids: list
    token_type_ids: list
    label: Any = None
    example: int = 0
    offsets: list[tuple[int, int] | None] | None = None
    word_starts: list[int] | None = None

    @property
    def length(self) -> int:
        """Tokens of the longest sequence (for length grouping and token budgets)."""
        ids = self.input_ids
        return max(map(len, ids)) if ids and isinstance(ids[0], list) else len(ids)

    @property
    def candidates(self) -> int:
        """Sequences in the feature: the candidates of a multiple-choice example, else 1."""
        ids = self.input_ids
        return len(ids) if ids and isinstance(ids[0], list) else 1

    @property
    def cost(self) -> int:
        """Tokens the model reads for this feature (all candidates, each padded to the longest)."""
        ids = self.input_ids
        return self.length * len(ids) if ids and isinstance(ids[0], list) else len(ids)


# ---- labels -------------------------------------------------------------------------------------------------


def label_set(labels: Sequence[str]) -> list[str]:
    """The sorted set of training labels (numerically when every label is an integer: "2" before "10")."""
    found = set(labels)
    try:
        return sorted(found, key=lambda lab: (int(lab), lab))
    except ValueError:
        return sorted(found)


def label_ids(examples: Sequence, labels: list[str], attr: str = "label") -> list[int]:
    """Each example's label id; a label outside ``labels`` is a BertkitError naming the example."""
    index = {lab: i for i, lab in enumerate(labels)}
    out = []
    for ex in examples:
        lab = getattr(ex, attr)
        if lab not in index:
            raise BertkitError(f"{ex.where}: label {lab!r} was never seen in training (labels: {', '.join(labels)})")
        out.append(index[lab])
    return out


# ---- encoders -----------------------------------------------------------------------------------------------


def encode_texts(tok, examples: Sequence[TextExample], max_length: int, labels: list[str] | None = None,
                 regression: bool = False) -> list[Feature]:
    """``[CLS] text [SEP] (pair [SEP])``, longest-first truncation to ``max_length``; labels: class ids (from
    ``labels``), floats (``regression``) or None."""
    pairs = [ex.pair for ex in examples]
    encs = tok.encode_batch([ex.text for ex in examples], pairs if any(p is not None for p in pairs) else None,
                            max_length=max_length, truncation="longest_first")
    if regression:
        targets = [_score(ex) for ex in examples]
    elif labels is not None:
        targets = label_ids(examples, labels)
    else:
        targets = [None] * len(examples)
    return [Feature(e.input_ids, e.token_type_ids, y, i) for i, (e, y) in enumerate(zip(encs, targets))]


def _score(ex: TextExample) -> float:
    return score_value(ex.label, ex.where)


def encode_words(tok, examples: Sequence[WordsExample], max_length: int, labels: list[str] | None = None
                 ) -> list[Feature]:
    """Each word tokenised on its own (HF ``is_split_into_words``); words that do not fit in ``max_length``
    are cut (their predictions are ``O``). Labels on first sub-tokens, IGNORE elsewhere."""
    index = {lab: i for i, lab in enumerate(labels)} if labels is not None else None
    pieces: dict[str, list[int]] = {}
    out = []
    for n, ex in enumerate(examples):
        ids, starts, targets = [tok.cls_token_id], [], [IGNORE]
        for w, word in enumerate(ex.words):
            wp = pieces.get(word)
            if wp is None:
                wp = pieces[word] = tok.encode_ids(word, add_special_tokens=False)
            if len(ids) + len(wp) > max_length - 1:
                break
            if not wp:  # a word that tokenises to nothing (a control character): no position, predicted O
                starts.append(-1)
                continue
            starts.append(len(ids))
            tag = ex.tags[w] if ex.tags is not None else None
            if index is not None and tag is not None:
                if tag not in index:
                    raise BertkitError(f"{ex.where}: tag {tag!r} was never seen in training "
                                       f"(tags: {', '.join(labels)})")
                targets += [index[tag]] + [IGNORE] * (len(wp) - 1)
            else:
                targets += [IGNORE] * len(wp)
            ids += wp
        ids.append(tok.sep_token_id)
        targets.append(IGNORE)
        out.append(Feature(ids, [0] * len(ids), targets if index is not None and ex.tags is not None else None,
                           n, word_starts=starts))
    return out


def encode_squad(tok, examples: Sequence[SquadExample], max_length: int, doc_stride: int, max_query_length: int,
                 with_answers: bool = True) -> list[Feature]:
    """Question + context windows (``[CLS] q [SEP] window [SEP]``, types 0 / 1), consecutive windows sharing
    ``doc_stride`` context tokens. With answers, each window's label is the first answer's (start, end) token
    positions, or (0, 0) (the [CLS]) when the answer is not wholly inside the window."""
    out = []
    for n, ex in enumerate(examples):
        q = tok.encode_ids(ex.question.lstrip(), add_special_tokens=False)[:max_query_length]
        enc = tok.encode(ex.context, add_special_tokens=False, return_offsets=True)
        c_ids, c_offs = enc.input_ids, enc.offsets
        budget = max_length - len(q) - 3
        if budget < 1:
            raise BertkitError(f"max_seq_length={max_length} leaves no room for the context after a "
                               f"{len(q)}-token question; raise it or lower data.max_query_length")
        step = max(1, budget - doc_stride)
        start = 0
        while True:
            window = slice(start, min(start + budget, len(c_ids)))
            ids = [tok.cls_token_id, *q, tok.sep_token_id, *c_ids[window], tok.sep_token_id]
            types = [0] * (len(q) + 2) + [1] * (len(ids) - len(q) - 2)
            offsets: list = [None] * (len(q) + 2) + list(c_offs[window]) + [None]
            label = _span_label(ex, offsets) if with_answers and ex.answers else None
            out.append(Feature(ids, types, label, n, offsets=offsets))
            if window.stop >= len(c_ids):
                break
            start += step
    return out


def _span_label(ex: SquadExample, offsets: list) -> tuple[int, int]:
    a = ex.answers[0]
    s_char, e_char = a.answer_start, a.answer_start + len(a.text)
    inside = [i for i, o in enumerate(offsets) if o is not None]
    if not inside or offsets[inside[0]][0] > s_char or offsets[inside[-1]][1] < e_char:
        return 0, 0
    start = next(i for i in inside if offsets[i][1] > s_char)
    end = next(i for i in reversed(inside) if offsets[i][0] < e_char)
    return (start, end) if start <= end else (0, 0)


def encode_choices(tok, examples: Sequence[ChoiceExample], max_length: int) -> list[Feature]:
    """One ``[CLS] context [SEP] candidate [SEP]`` per candidate, longest-first truncation."""
    out = []
    for n, ex in enumerate(examples):
        encs = tok.encode_batch([ex.context] * len(ex.endings), list(ex.endings), max_length=max_length,
                                truncation="longest_first")
        out.append(Feature([e.input_ids for e in encs], [e.token_type_ids for e in encs], ex.label, n))
    return out


# ---- batches ------------------------------------------------------------------------------------------------


def collate(features: Sequence[Feature], pad_id: int, label_kind: str | None) -> Batch:
    """Pad features to the longest in the batch (rounded up to PAD_MULTIPLE); multiple-choice features give
    (B, C, L) inputs.

    label_kind: "class" -> labels (B,) long; "score" -> (B,) float; "tokens" -> (B, L) long, IGNORE on
    padding; "span" -> (B, 2) long start/end; None -> no labels.
    """
    choice = bool(features) and bool(features[0].input_ids) and isinstance(features[0].input_ids[0], list)
    if choice:
        C = len(features[0].input_ids)
        if any(len(f.input_ids) != C for f in features):  # the batch cannot be one (B, C, L) tensor
            raise BertkitError("multiple choice: every example in a batch needs the same number of candidates")
        rows = [r for f in features for r in f.input_ids]
        ids, mask = pad_ids(rows, pad_id, pad_to_multiple_of=PAD_MULTIPLE)
        types, _ = pad_ids([r for f in features for r in f.token_type_ids], 0, length=ids.shape[1])
        shape = (len(features), C, ids.shape[1])  # (B*C, L) -> (B, C, L)
        ids, mask, types = ids.reshape(shape), mask.reshape(shape), types.reshape(shape)
    else:
        ids, mask = pad_ids([f.input_ids for f in features], pad_id, pad_to_multiple_of=PAD_MULTIPLE)
        types, _ = pad_ids([f.token_type_ids for f in features], 0, length=ids.shape[1])
    labels = None
    if label_kind is not None and features and features[0].label is not None:
        if label_kind == "class":
            labels = torch.tensor([f.label for f in features], dtype=torch.long)
        elif label_kind == "score":
            labels = torch.tensor([f.label for f in features], dtype=torch.float32)
        elif label_kind == "span":
            labels = torch.tensor([list(f.label) for f in features], dtype=torch.long)
        elif label_kind == "tokens":
            lab, _ = pad_ids([f.label for f in features], IGNORE, length=ids.shape[-1])
            labels = torch.from_numpy(lab)
        else:
            raise ValueError(f"label_kind {label_kind!r} is not one of {LABEL_KINDS}")
    return Batch(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types), labels=labels)


def length_grouped_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator,
                           group: int | None = None, candidates: Sequence[int] | None = None) -> list[list[int]]:
    """Training batches of similar length: a random permutation cut into mega-batches of ``group`` batches,
    each sorted by length (longest first) and cut into batches, then the batch order shuffled (as HF's
    ``LengthGroupedSampler``). ``group`` defaults to HF's ``min(n // (4 x batch_size), 50)``, at least 1: a
    training set always spans at least four mega-batches (when it has four batches), so that each epoch puts
    different examples together; with one mega-batch for the whole set, every epoch would repeat the same
    batches in another order. Features with different numbers of ``candidates`` never share a batch. Every
    index appears once."""
    lens = np.asarray(lengths)
    batches = []
    for part in _by_candidates(len(lengths), candidates):
        g = group or max(min(len(part) // (4 * batch_size), 50), 1)
        order = part[rng.permutation(len(part))]
        for s in range(0, len(order), batch_size * g):
            mega = order[s:s + batch_size * g]
            mega = mega[np.argsort(-lens[mega], kind="stable")]
            batches += [mega[i:i + batch_size].tolist() for i in range(0, len(mega), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def random_batches(n: int, batch_size: int, rng: np.random.Generator,
                   candidates: Sequence[int] | None = None) -> list[list[int]]:
    """Training batches in a random order, as a plain shuffled loader cuts them (features with different
    numbers of ``candidates`` never share a batch). Every index appears once. These are length-grouped batches
    with one batch per group and no lengths to sort by."""
    return length_grouped_batches([0] * n, batch_size, rng, group=1, candidates=candidates)


def _by_candidates(n: int, candidates: Sequence[int] | None) -> list[np.ndarray]:
    """Indices 0..n-1 split by their number of candidates (one part when all have the same)."""
    if candidates is None:
        return [np.arange(n)]
    c = np.asarray(candidates)
    return [np.flatnonzero(c == k) for k in np.unique(c)]


def budget_batches(costs: Sequence[int], lengths: Sequence[int], max_tokens: int,
                   max_batch: int = 256) -> list[list[int]]:
    """Inference batches: indices sorted by length, each batch as large as fits ``max_tokens`` padded tokens
    (B x longest x candidates) and ``max_batch``; features with different numbers of candidates (cost /
    length) never share a batch. Every index appears once."""
    per = [max(c // max(n, 1), 1) for c, n in zip(costs, lengths)]
    batches: list[list[int]] = []
    for part in _by_candidates(len(lengths), per):
        order = part[np.argsort(-np.asarray(lengths)[part], kind="stable")]  # longest first: the first is widest
        cur: list[int] = []
        for i in order.tolist():
            if cur and ((len(cur) + 1) * lengths[cur[0]] * per[i] > max_tokens or len(cur) >= max_batch):
                batches.append(cur)
                cur = []
            cur.append(i)
        if cur:
            batches.append(cur)
    return batches


class FinetuneData:
    """Epochs of length-grouped training batches for the loop (:class:`bertkit.train.loop.BatchSource`).

    Each step takes one batch of ``batch_size`` features (the last of an epoch may be smaller), split into
    ``grad_accum`` micro-batches for each of ``world_size`` processes; this process gets its own. With several
    processes an epoch's last batch is dropped when it has fewer features than micro-batches. State:
    {"epoch", "batch"}, the position after a step.
    """

    def __init__(self, features: Sequence[Feature], *, batch_size: int, grad_accum: int, seed: int, pad_id: int,
                 label_kind: str, epochs: int, group_by_length: bool = True, rank: int = 0, world_size: int = 1):
        if not features:
            raise BertkitError("the training set is empty")
        self.features, self.batch_size, self.grad_accum = features, batch_size, grad_accum
        self.seed, self.pad_id, self.label_kind, self.epochs = seed, pad_id, label_kind, epochs
        self.rank, self.world_size, self.group_by_length = rank, world_size, group_by_length
        self.lengths = [f.length for f in features]
        self.candidates = [f.candidates for f in features]

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        if self.group_by_length:
            batches = length_grouped_batches(self.lengths, self.batch_size, rng, candidates=self.candidates)
        else:
            batches = random_batches(len(self.lengths), self.batch_size, rng, candidates=self.candidates)
        parts = self.grad_accum * self.world_size
        return [b for b in batches if len(b) >= parts] if self.world_size > 1 else batches

    @property
    def steps_per_epoch(self) -> int:
        return len(self.epoch_batches(0))

    def batches(self, state: dict | None) -> Iterator[tuple[list[Batch], dict]]:
        epoch, first = (state["epoch"], state["batch"]) if state else (0, 0)
        parts = self.grad_accum * self.world_size
        while epoch < self.epochs:
            batches = self.epoch_batches(epoch)
            for b in range(first, len(batches)):
                split = np.array_split(np.asarray(batches[b]), parts)
                mine = split[self.rank * self.grad_accum:(self.rank + 1) * self.grad_accum]
                micro = [collate([self.features[i] for i in m], self.pad_id, self.label_kind) for m in mine if len(m)]
                after = {"epoch": epoch, "batch": b + 1} if b + 1 < len(batches) else {"epoch": epoch + 1, "batch": 0}
                yield micro, after
            epoch, first = epoch + 1, 0
