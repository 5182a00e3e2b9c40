"""Masked-LM targets (Devlin et al. 2018, section 3.1; Google's ``create_masked_lm_predictions``).

Of the maskable positions (never [CLS], [SEP] or padding), ``round(n * p)`` are chosen (at least 1, at most
``max_predictions``); each chosen token becomes [MASK] with probability 0.8, a random token with 0.1 and stays
itself with 0.1; the original ids are the labels. With whole-word masking the choice is made over words (a
token and the ``##`` pieces that follow it) and a word is taken whole or not at all, as in Google's code (a
word that would overshoot the budget is skipped and the next one tried). The 80/10/10 choice is then made per
token, also as there.

Pure: the generator and the vocabulary facts are arguments (STYLE.md §3.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MaskingVocab:
    """What masking needs to know of the vocabulary.

    mask_id: the [MASK] id; random_ids: ids a "random token" is drawn from (the vocabulary without special
    and [unused] tokens); continuation: (V,) bool, True for ``##`` pieces (for whole-word masking).
    """

    mask_id: int
    random_ids: np.ndarray
    continuation: np.ndarray

    @classmethod
    def from_tokens(cls, tokens: list[str], mask_token: str = "[MASK]") -> "MaskingVocab":
        """From the vocabulary in id order."""
        special = np.array([(t.startswith("[") and t.endswith("]")) for t in tokens])
        return cls(tokens.index(mask_token), np.flatnonzero(~special).astype(np.int64),
                   np.array([t.startswith("##") for t in tokens]))


def mask_tokens(ids: np.ndarray, maskable: np.ndarray, vocab: MaskingVocab, rng: np.random.Generator, *,
                probability: float = 0.15, max_predictions: int | None = None, whole_word: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose and corrupt masked positions of one sequence.

    ids: (L,) int64 token ids (with specials); maskable: (L,) bool, False for specials and padding.
    Returns (corrupted ids (L,), positions (M,) sorted, labels (M,) original ids).
    """
    candidates = np.flatnonzero(maskable)
    n_pred = max(1, int(round(len(ids) * probability)))
    if max_predictions is not None:
        n_pred = min(n_pred, max_predictions)
    if whole_word:
        positions = _whole_word_positions(ids, candidates, vocab.continuation, n_pred, rng)
    else:
        positions = np.sort(rng.permutation(candidates)[:n_pred])
    labels = ids[positions].copy()
    out = ids.copy()
    u = rng.random(len(positions))
    out[positions[u < 0.8]] = vocab.mask_id
    rand = positions[u >= 0.9]
    out[rand] = vocab.random_ids[rng.integers(0, len(vocab.random_ids), len(rand))]
    return out, positions, labels


def _whole_word_positions(ids: np.ndarray, candidates: np.ndarray, continuation: np.ndarray, n_pred: int,
                          rng: np.random.Generator) -> np.ndarray:
    """Google's whole-word selection: words in random order, each taken whole if it fits the budget."""
    if not len(candidates):
        return candidates
    cont = continuation[ids[candidates]]
    # a word starts at a candidate that is not a ## piece, or that does not directly follow another candidate
    starts = ~cont | np.concatenate(([True], np.diff(candidates) != 1))
    bounds = np.flatnonzero(starts).tolist() + [len(candidates)]
    chosen: list[np.ndarray] = []
    total = 0
    for w in rng.permutation(len(bounds) - 1):
        if total >= n_pred:
            break
        size = bounds[w + 1] - bounds[w]
        if total + size > n_pred:
            continue
        chosen.append(candidates[bounds[w]:bounds[w + 1]])
        total += size
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)
