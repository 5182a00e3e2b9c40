"""Pretraining instances from tokenized documents: BERT's sentence pairs, or RoBERTa's full-length segments.

Pairs follow Google's ``create_pretraining_data.py`` (``create_instances_from_document``): sentences of a
document are gathered into a chunk until it reaches the target length (``max_seq_length - 3``, or with
probability ``short_seq_prob`` a random shorter one); the chunk is cut at a random sentence boundary into
segment A and the rest; with probability 1/2 (always, for a one-sentence chunk) segment B is instead taken
from a random sentence onward of another document and the unused sentences go back to the stream; the pair
is trunated from the longer side, at a random end, to fit.

Full-length segments (the RoBERTa recipe, ``nsp=False``): the token stream cut into pieces of
``max_seq_length - 2`` tokens, across sentence and document boundaries (a [SEP] between documents); no NSP.

Pure functions: every random choice comes from the ``numpy.random.Generator`` passed in (STYLE.md §3.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


@dataclass
class Instance:
    """One training sequence before masking: segment A, segment B (empty for single segments), NSP label
    (0 = B follows A, 1 = B is random, -1 = no NSP)."""

    a: np.ndarray
    b: np.ndarray
    is_random_next: int


def truncate_pair(a: list[int], b: list[int], max_tokens: int, rng: np.random.Generator) -> tuple[list, list]:
    """Google's ``truncate_seq_pair``: drop one token at a time from the longer segment (B on a tie), from the
    front or the back with equal probability, until ``len(a) + len(b) <= max_tokens``."""
    a_lo, a_hi, b_lo, b_hi = 0, len(a), 0, len(b)
    while (a_hi - a_lo) + (b_hi - b_lo) > max_tokens:
        if (a_hi - a_lo) > (b_hi - b_lo):
            if rng.random() < 0.5:
                a_lo += 1
            else:
                a_hi -= 1
        else:
            if rng.random() < 0.5:
                b_lo += 1
            else:
                b_hi -= 1
    return a[a_lo:a_hi], b[b_lo:b_hi]


def pairs_from_document(
    doc_index: int,
    document: Sequence[np.ndarray],
    random_document: Callable[[np.random.Generator, int], Sequence[np.ndarray]],
    max_seq_length: int,
    short_seq_prob: float,
    rng: np.random.Generator,
) -> list[Instance]:
    """BERT's sentence pairs from one document (its sentences as id arrays, no special tokens).

    random_document(rng, doc_index) returns the sentences of a document other than ``doc_index`` (the caller
    knows the corpus). Every instance fits ``max_seq_length`` with [CLS] A [SEP] B [SEP].
    """
    max_tokens = max_seq_length - 3
    target = max_tokens
    if rng.random() < short_seq_prob:
        target = int(rng.integers(2, max_tokens + 1))
    out: list[Instance] = []
    chunk: list[np.ndarray] = []
    length = 0
    i = 0
    while i < len(document):
        chunk.append(document[i])
        length += len(document[i])
        if i == len(document) - 1 or length >= target:
            if chunk:
                a_end = int(rng.integers(1, len(chunk))) if len(chunk) >= 2 else 1
                a = np.concatenate(chunk[:a_end])
                if len(chunk) == 1 or rng.random() < 0.5:
                    is_random = 1
                    b_target = target - len(a)
                    other = random_document(rng, doc_index)
                    start = int(rng.integers(0, len(other)))
                    parts, got = [], 0
                    for sent in other[start:]:
                        parts.append(sent)
                        got += len(sent)
                        if got >= b_target:
                            break
                    b = np.concatenate(parts)
                    i -= len(chunk) - a_end  # the unused sentences are not wasted
                else:
                    is_random = 0
                    b = np.concatenate(chunk[a_end:])
                a, b = truncate_pair(a, b, max_tokens, rng)
                if len(a) and len(b):
                    out.append(Instance(a, b, is_random))
            chunk, length = [], 0
        i += 1
    return out


def full_segments(documents: Sequence[Sequence[np.ndarray]], max_seq_length: int, sep_id: int) -> list[Instance]:
    """Full-length segments (RoBERTa's recipe without NSP): the documents' tokens as one stream, with a [SEP]
    between two documents, cut into segments of ``max_seq_length - 2`` tokens (the last may be shorter).
    Segments run across sentence and document boundaries, so no position is wasted on padding."""
    cap = max_seq_length - 2
    parts: list[np.ndarray] = []
    for d, document in enumerate(documents):
        if d > 0 and parts:
            parts.append(np.array([sep_id], dtype=np.int64))
        parts += [np.asarray(sent, dtype=np.int64) for sent in document]
    if not parts:
        return []
    stream = np.concatenate(parts)
    empty = np.zeros(0, np.int64)
    return [Instance(stream[i:i + cap], empty, -1) for i in range(0, len(stream), cap)
            if (stream[i:i + cap] != sep_id).any()]
