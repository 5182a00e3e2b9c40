"""Evaluation metrics for fine-tuning: classification (accuracy, precision/recall/F1, Matthews correlation),
regression (Pearson, Spearman, MSE), named entities (conlleval's chunk F1) and SQuAD v1.1 (exact match, F1).

Every score is a fraction in [0, 1]: where a reference reports percent (conlleval, the SQuAD script), ours is
its value divided by 100. A zero denominator in precision, recall or F1 gives 0.0. References:

- Matthews correlation: the multiclass form that ``sklearn.metrics.matthews_corrcoef`` computes (Gorodkin,
  2004). From the confusion matrix, with t and p the true and predicted count of each class, c the number
  correct and s the number of samples: ``(c*s - t.p) / sqrt((s^2 - p.p) * (s^2 - t.t))``, and 0.0 when the
  product under the root is 0.
- Spearman: the Pearson correlation of average ranks (tied values share their mean rank), as
  ``scipy.stats.spearmanr``.
- Entities: conlleval, the Perl script that scored CoNLL-2000/2003 (Tjong Kim Sang;
  https://www.clips.uantwerpen.be/conll2000/chunking/conlleval.txt). A tag is cut at its first "-" into a
  prefix and a type (``B-ORG`` -> B, ORG). A tag with no "-", such as ``PER``, has the whole tag as its
  prefix and the empty type, as conlleval reads it. Chunks start and end by conlleval's
  startOfChunk/endOfChunk rules, with seqeval's IOBES additions (a chunk always ends after E- or S-, and B-
  or S- always starts one). So IOB1, IOB2, IOE and IOBES all work. A predicted entity counts only when its
  type, start and end all match. conlleval's bracket tags ``[``/``]`` are not supported.
- SQuAD v1.1: the official ``evaluate-v1.1.py`` (Rajpurkar et al., 2016). Answers are normalised (lower case;
  punctuation, the articles a/an/the and extra whitespace removed), then scored by exact match or bag-of-tokens
  F1, taking the best over the ground truths, and averaged over questions.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from typing import Hashable, Mapping, Sequence

import numpy as np

from bertkit.utils.errors import BertkitError


def _pair(pred: Sequence, gold: Sequence) -> tuple[list, list]:
    """Both sequences as lists, checked to be of one, non-zero length."""
    pred, gold = list(pred), list(gold)
    if len(pred) != len(gold):
        raise BertkitError(f"{len(pred)} predictions for {len(gold)} gold values")
    if not gold:
        raise BertkitError("nothing to score: no gold values")
    return pred, gold


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0.0 where a denominator is 0)."""
    return {
        "precision": tp / n_pred if n_pred else 0.0,
        "recall": tp / n_gold if n_gold else 0.0,
        "f1": 2 * tp / (n_pred + n_gold) if tp else 0.0,
    }


# ---------------------------------------------------------------------------------------------- classification


def accuracy(pred: Sequence[Hashable], gold: Sequence[Hashable]) -> float:
    """The fraction of positions where ``pred`` equals ``gold``."""
    pred, gold = _pair(pred, gold)
    return sum(bool(p == g) for p, g in zip(pred, gold)) / len(gold)


def per_class(pred: Sequence[Hashable], gold: Sequence[Hashable], labels: Sequence[Hashable]) -> dict:
    """``{label: {"precision", "recall", "f1", "support"}}`` for each label in ``labels``, in that order.

    Each label is scored one-vs-rest. ``support`` is the number of gold occurrences (an int).
    """
    pred, gold = _pair(pred, gold)
    n_pred, n_gold = Counter(pred), Counter(gold)
    tp = Counter(g for p, g in zip(pred, gold) if p == g)
    return {lab: {**_prf(tp[lab], n_pred[lab], n_gold[lab]), "support": n_gold[lab]} for lab in labels}


def precision_recall_f1(pred: Sequence[Hashable], gold: Sequence[Hashable], positive: Hashable) -> dict:
    """``{"precision", "recall", "f1"}`` of the class ``positive``, e.g. GLUE MRPC's binary F1 with positive 1."""
    scores = per_class(pred, gold, [positive])[positive]
    return {k: scores[k] for k in ("precision", "recall", "f1")}


def matthews_corrcoef(pred: Sequence[Hashable], gold: Sequence[Hashable]) -> float:
    """Matthews correlation in sklearn's multiclass form (module docstring); 0.0 where it is undefined."""
    pred, gold = _pair(pred, gold)
    index = {v: i for i, v in enumerate(dict.fromkeys(gold + pred))}
    t = np.bincount([index[g] for g in gold], minlength=len(index)).astype(np.float64)
    p = np.bincount([index[x] for x in pred], minlength=len(index)).astype(np.float64)
    c = float(sum(bool(x == g) for x, g in zip(pred, gold)))
    s = float(len(gold))
    cov_pp_tt = (s * s - p @ p) * (s * s - t @ t)
    if cov_pp_tt == 0:
        return 0.0
    return float((c * s - t @ p) / np.sqrt(cov_pp_tt))


def classification_scores(pred: Sequence[Hashable], gold: Sequence[Hashable], labels: Sequence[Hashable]) -> dict:
    """Accuracy, ``mcc``, ``macro_f1`` (mean F1 over ``labels``) and ``per_class``. With exactly two labels,
    also the precision, recall and F1 of ``labels[1]`` as the positive class.

    ``pred``/``gold``: label strings or ints. A value that is not in ``labels``, or a label listed twice,
    raises BertkitError (usually a label mapping gone wrong, e.g. ``"1"`` against ``1``).
    """
    labels = list(labels)
    pred, gold = _pair(pred, gold)
    if len(set(labels)) != len(labels):
        raise BertkitError(f"labels {labels} contain a duplicate")
    unknown = [v for v in dict.fromkeys(gold + pred) if v not in set(labels)]
    if unknown:
        raise BertkitError(f"values {unknown[:5]!r} are not among the labels {labels!r}")
    classes = per_class(pred, gold, labels)
    out = {
        "accuracy": accuracy(pred, gold),
        "mcc": matthews_corrcoef(pred, gold),
        "macro_f1": sum(c["f1"] for c in classes.values()) / len(labels),
    }
    if len(labels) == 2:
        out.update({k: classes[labels[1]][k] for k in ("precision", "recall", "f1")})
    out["per_class"] = classes
    return out


# -------------------------------------------------------------------------------------------------- regression


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's r; nan when either input is constant (or has one value)."""
    x, y = (np.asarray(v, dtype=np.float64) for v in _pair(x, y))
    if (x == x[0]).all() or (y == y[0]).all():
        return math.nan
    xm, ym = x - x.mean(), y - y.mean()
    r = np.dot(xm / np.linalg.norm(xm), ym / np.linalg.norm(ym))
    return float(np.clip(r, -1.0, 1.0))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, with tied values sharing the mean of their ranks (scipy's ``rankdata(method="average")``)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    first = np.r_[True, xs[1:] != xs[:-1]]  # (n,) True where a run of equal values begins
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(x)]
    ranks = np.empty(len(x))
    ranks[order] = ((starts + ends + 1) / 2)[np.cumsum(first) - 1]
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho, the Pearson r of average ranks; nan when either input is constant."""
    x, y = (np.asarray(v, dtype=np.float64) for v in _pair(x, y))
    return pearson(_average_ranks(x), _average_ranks(y))


def regression_scores(pred: Sequence[float], gold: Sequence[float]) -> dict[str, float]:
    """``{"pearson", "spearman", "mse"}`` (GLUE STS-B reports the first two)."""
    x, y = (np.asarray(v, dtype=np.float64) for v in _pair(pred, gold))
    return {"pearson": pearson(x, y), "spearman": spearman(x, y), "mse": float(np.mean((x - y) ** 2))}


# ------------------------------------------------------------------------------------------ entities (conlleval)


def _ends(prev: str, tag: str, prev_type: str, type_: str) -> bool:
    """conlleval's endOfChunk (a chunk ended between the previous and current token), plus IOBES."""
    return (
        prev in ("E", "S")
        or (prev in ("B", "I") and tag in ("B", "S", "O"))
        or (prev not in ("O", ".") and prev_type != type_)  # "." is exempt, as in conlleval
    )


def _starts(prev: str, tag: str, prev_type: str, type_: str) -> bool:
    """conlleval's startOfChunk (a chunk starts at the current token), plus IOBES."""
    return (
        tag in ("B", "S")
        or (prev in ("O", "E", "S") and tag in ("I", "E"))
        or (tag not in ("O", ".") and prev_type != type_)
    )


def entity_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The chunks of one sentence as ``(type, start, end)``, where ``end`` is exclusive and chunks come in
    order of their start. The rules are conlleval's (module docstring).

    ``["B-PER", "I-PER", "O", "B-LOC"]`` -> ``[("PER", 0, 2), ("LOC", 3, 4)]``. In IOB1,
    ``["I-PER", "I-PER", "B-PER"]`` -> ``[("PER", 0, 2), ("PER", 2, 3)]``. Every chunk is closed at the end of
    the sentence, and a chunk that is still open when another starts is closed there. conlleval's text stream
    would instead let the odd untyped chunk (from a bare tag like ``PER`` after a typed one) run on past an
    ``O`` into the next sentence.
    """
    spans: list[tuple[str, int, int]] = []
    start, kind = None, ""
    prev, prev_type = "O", ""
    for i, tag in enumerate(tags):
        cur, _, cur_type = tag.partition("-")
        begins = _starts(prev, cur, prev_type, cur_type)
        if start is not None and (begins or _ends(prev, cur, prev_type, cur_type)):
            spans.append((kind, start, i))
            start = None
        if begins:
            start, kind = i, cur_type
        prev, prev_type = cur, cur_type
    if start is not None:
        spans.append((kind, start, len(tags)))
    return spans


def ner_scores(pred_sentences: Sequence[Sequence[str]], gold_sentences: Sequence[Sequence[str]]) -> dict:
    """Entity scores as conlleval computes them: micro-averaged ``precision``, ``recall`` and ``f1`` over all
    entities, token ``accuracy``, and ``per_type``: ``{type: {"precision", "recall", "f1", "support"}}`` for
    each type seen in gold or prediction, sorted, where ``support`` is the number of gold entities.

    Raises BertkitError when the number of sentences differs, or when a sentence's length differs (the error
    names the sentence's index).
    """
    if len(pred_sentences) != len(gold_sentences):
        raise BertkitError(f"{len(pred_sentences)} predicted sentences for {len(gold_sentences)} gold sentences")
    n_pred: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    tp: Counter[str] = Counter()
    correct_tags = n_tags = 0
    for i, (p, g) in enumerate(zip(pred_sentences, gold_sentences)):
        if len(p) != len(g):
            raise BertkitError(f"sentence {i}: {len(p)} predicted tags for {len(g)} gold tags")
        ps, gs = set(entity_spans(p)), set(entity_spans(g))
        n_pred.update(t for t, _, _ in ps)
        n_gold.update(t for t, _, _ in gs)
        tp.update(t for t, _, _ in ps & gs)
        correct_tags += sum(a == b for a, b in zip(p, g))
        n_tags += len(g)
    if not n_tags:
        raise BertkitError("nothing to score: no gold tags")
    per_type = {t: {**_prf(tp[t], n_pred[t], n_gold[t]), "support": n_gold[t]} for t in sorted(n_pred | n_gold)}
    micro = _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    return {**micro, "accuracy": correct_tags / n_tags, "per_type": per_type}


# ------------------------------------------------------------------------------------------------ SQuAD v1.1

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """The official script's normalisation: lower case, drop punctuation, then a/an/the, then extra whitespace."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", s).split())


def _truths(ground_truths: Sequence[str]) -> Sequence[str]:
    if isinstance(ground_truths, str) or not ground_truths:
        raise BertkitError(f"ground truths must be a non-empty list of strings, not {ground_truths!r}")
    return ground_truths


def squad_exact_match(prediction: str, ground_truths: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals some normalised ground truth, else 0.0."""
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(g) for g in _truths(ground_truths)))


def _token_f1(prediction: str, truth: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def squad_f1(prediction: str, ground_truths: Sequence[str]) -> float:
    """The best bag-of-tokens F1 between the normalised prediction and any of the normalised ground truths."""
    return max(_token_f1(prediction, g) for g in _truths(ground_truths))


def squad_scores(predictions: Mapping[str, str], answers: Mapping[str, Sequence[str]]) -> dict:
    """``{"exact_match", "f1", "missing"}``: means over every question id in ``answers``.

    A question with no prediction scores 0, as in the official script (which prints a warning for each one).
    Here they are counted in ``missing``. Predictions for ids that are not in ``answers`` are ignored.
    """
    if not answers:
        raise BertkitError("nothing to score: no questions")
    em = f1 = 0.0
    missing = 0
    for qid, truths in answers.items():
        if qid not in predictions:
            missing += 1
            continue
        em += squad_exact_match(predictions[qid], truths)
        f1 += squad_f1(predictions[qid], truths)
    return {"exact_match": em / len(answers), "f1": f1 / len(answers), "missing": missing}
