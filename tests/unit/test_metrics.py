"""tasks.metrics against oracles: sklearn and scipy (classification, correlation), seqeval (conlleval's entity
F1 on CoNLL-2003 valid, in IOB2, IOB1 and IOBES), and the official SQuAD v1.1 evaluation functions, pasted
below, on SQuAD dev. Also hand-made tagging cases whose spans follow from conlleval's rules.
"""

from __future__ import annotations

import math
import re
import string
import sys
from collections import Counter

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from bertkit.data.tasks.conll import read_conll
from bertkit.data.tasks.squad import read_squad
from bertkit.tasks import metrics as M
from bertkit.utils.errors import BertkitError

TOL = 1e-12

# ------------------------------------------------------------------------------ classification vs sklearn


def _labels_case(seed: int, k: int, n: int, as_str: bool):
    """Random gold/pred over k classes, pred right about half the time; one label is never predicted."""
    rng = np.random.default_rng(seed)
    labels = [f"c{i}" for i in range(k)] if as_str else list(range(k))
    gold = rng.integers(k, size=n)
    pred = np.where(rng.random(n) < 0.5, gold, rng.integers(k - 1, size=n))  # class k-1 only when right
    if k > 2:
        pred[pred == k - 1] = 0  # ... and for k > 2 never predicted at all (a zero division)
    conv = (lambda a: [labels[i] for i in a]) if as_str else (lambda a: [int(i) for i in a])
    return conv(pred), conv(gold), labels


CASES = [(seed, k, n, as_str) for seed, (k, n) in enumerate([(2, 50), (2, 501), (3, 200), (5, 997), (7, 64)])
         for as_str in (False, True)]


@pytest.mark.parametrize("seed,k,n,as_str", CASES)
def test_classification_matches_sklearn(seed, k, n, as_str):
    pred, gold, labels = _labels_case(seed, k, n, as_str)
    assert abs(M.accuracy(pred, gold) - skm.accuracy_score(gold, pred)) < TOL
    assert abs(M.matthews_corrcoef(pred, gold) - skm.matthews_corrcoef(gold, pred)) < TOL
    p, r, f, s = skm.precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    got = M.per_class(pred, gold, labels)
    assert list(got) == labels
    for i, lab in enumerate(labels):
        assert abs(got[lab]["precision"] - p[i]) < TOL and abs(got[lab]["recall"] - r[i]) < TOL
        assert abs(got[lab]["f1"] - f[i]) < TOL and got[lab]["support"] == s[i]
        one = M.precision_recall_f1(pred, gold, lab)
        assert one == {k_: got[lab][k_] for k_ in ("precision", "recall", "f1")}
    scores = M.classification_scores(pred, gold, labels)
    assert abs(scores["macro_f1"] - skm.f1_score(gold, pred, labels=labels, average="macro", zero_division=0)) < TOL
    assert scores["per_class"] == got
    if k == 2:
        pos = labels[1]
        assert abs(scores["f1"] - skm.f1_score(gold, pred, pos_label=pos)) < TOL
        assert abs(scores["precision"] - skm.precision_score(gold, pred, pos_label=pos)) < TOL
        assert abs(scores["recall"] - skm.recall_score(gold, pred, pos_label=pos)) < TOL
    else:
        assert not {"precision", "recall", "f1"} & set(scores)


@pytest.mark.filterwarnings("ignore:A single label was found")
def test_zero_division_and_degenerate_mcc():
    # the positive class is never predicted: precision 0/0 -> 0.0, F1 0.0
    assert M.precision_recall_f1([0, 0, 0], [1, 0, 1], 1) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    # a label absent from both sides
    assert M.per_class([0, 1], [0, 1], [0, 1, 2])[2] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    for pred, gold in [([1, 1, 1], [1, 1, 1]), ([0, 0, 0], [0, 1, 2]), (["a"], ["b"])]:
        assert M.matthews_corrcoef(pred, gold) == 0.0 == skm.matthews_corrcoef(gold, pred)
    assert M.matthews_corrcoef([0, 1, 0, 1], [1, 0, 1, 0]) == -1.0


def test_classification_scores_rejects_bad_labels():
    with pytest.raises(BertkitError, match=r"not among the labels"):
        M.classification_scores(["1", "0"], [1, 0], [0, 1])  # strings from a TSV against int labels
    with pytest.raises(BertkitError, match=r"duplicate"):
        M.classification_scores([0, 1], [0, 1], [0, 1, 1])
    with pytest.raises(BertkitError, match=r"3 predictions for 2 gold"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(BertkitError, match=r"nothing to score"):
        M.accuracy([], [])


# --------------------------------------------------------------------------------- correlation vs scipy


@pytest.mark.parametrize("seed,n,ties", [(0, 2, False), (1, 3, False), (2, 100, False), (3, 100, True),
                                         (4, 1500, True), (5, 37, True)])
def test_correlations_match_scipy(seed, n, ties):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.6 * x + rng.normal(size=n)
    if ties:  # STS-B-like scores on a coarse grid: many tied values on both sides
        x, y = np.round(x * 2) / 2, np.round(y)
    assert abs(M.pearson(x, y) - stats.pearsonr(x, y).statistic) < TOL
    assert abs(M.spearman(x, y) - stats.spearmanr(x, y).statistic) < TOL
    r = M.regression_scores(list(x), list(y))
    assert set(r) == {"pearson", "spearman", "mse"}
    assert abs(r["mse"] - skm.mean_squared_error(y, x)) < TOL
    assert r["pearson"] == M.pearson(x, y) and r["spearman"] == M.spearman(x, y)


def test_average_ranks_match_scipy():
    x = np.array([3.0, 1.0, 3.0, 2.0, 3.0, 1.0, -0.5])
    np.testing.assert_array_equal(M._average_ranks(x), stats.rankdata(x))


def test_constant_input_is_nan():
    for x, y in [([1.0, 1.0, 1.0], [0.0, 1.0, 2.0]), ([0.1] * 5, [3, 1, 4, 1, 5]), ([2.0], [3.0])]:
        for f in (M.pearson, M.spearman):
            assert math.isnan(f(x, y)) and math.isnan(f(y, x))


# --------------------------------------------------------------------------------- entities: hand cases


@pytest.mark.parametrize("tags,spans", [
    # IOB2
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
    (["B-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
    (["B-PER", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 2)]),  # a type change ends and starts a chunk
    (["B-ORG-X", "I-ORG-X"], [("ORG-X", 0, 2)]),  # the type is everything after the first "-"
    # IOB1: I- starts a chunk after O or another type; B- only between two chunks of one type
    (["I-PER", "I-PER", "B-PER"], [("PER", 0, 2), ("PER", 2, 3)]),
    (["O", "I-LOC"], [("LOC", 1, 2)]),
    (["I-PER", "I-LOC", "I-LOC", "O", "I-MISC"], [("PER", 0, 1), ("LOC", 1, 3), ("MISC", 4, 5)]),
    # IOBES (and IOE: E- after O starts a chunk, I- after E- starts the next)
    (["S-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "O", "E-ORG"],
     [("PER", 0, 1), ("PER", 1, 2), ("LOC", 2, 5), ("ORG", 6, 7)]),
    (["B-PER", "E-PER", "B-PER", "E-PER"], [("PER", 0, 2), ("PER", 2, 4)]),
    (["I-PER", "E-PER", "I-PER"], [("PER", 0, 2), ("PER", 2, 3)]),
    # untyped chunk tags (bare B/I/E/S, the empty type): the prefix rules alone decide
    (["O", "I", "I", "O", "B", "B", "I"], [("", 1, 3), ("", 4, 5), ("", 5, 7)]),
    (["B", "O"], [("", 0, 1)]),
    # plain O and empty sentences
    (["O", "O"], []),
    ([], []),
    # a bare tag is prefix "PER" with the empty type: after O (also empty-typed) nothing starts; after a typed
    # tag the type change starts an untyped chunk, which O does not end (conlleval's endOfChunk has no PER-O
    # rule), so it runs until the next chunk starts or the sentence ends
    (["O", "PER", "O"], []),
    (["B-LOC", "PER", "O", "B-LOC"], [("LOC", 0, 1), ("", 1, 3), ("LOC", 3, 4)]),
    (["B-LOC", "PER", "O"], [("LOC", 0, 1), ("", 1, 3)]),
])
def test_entity_spans_follow_conlleval(tags, spans):
    assert M.entity_spans(tags) == spans


def test_ner_scores_small():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG"]]
    s = M.ner_scores(pred, gold)
    # gold: PER(0,2) LOC(3,4) ORG(0,1); pred: PER(0,2) ORG(3,4) ORG(0,2) -> 1 of 3 right on each side
    assert s["precision"] == s["recall"] == s["f1"] == 1 / 3
    assert s["accuracy"] == 4 / 6
    assert s["per_type"] == {
        "LOC": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
        "ORG": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
        "PER": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
    }


def test_ner_scores_names_the_bad_sentence():
    with pytest.raises(BertkitError, match=r"1 predicted sentences for 2 gold"):
        M.ner_scores([["O"]], [["O"], ["O"]])
    with pytest.raises(BertkitError, match=r"sentence 1: 1 predicted tags for 2 gold"):
        M.ner_scores([["O"], ["O"]], [["O"], ["O", "B-PER"]])


@pytest.mark.filterwarnings("ignore:PER seems not to be NE tag")
def test_seqeval_reads_a_bare_tag_differently():
    """Where the oracle is not conlleval: seqeval reads ``PER`` as prefix ``P`` of type ``ER`` and finds an
    entity; conlleval reads prefix ``PER`` with the empty type, like ``O``'s, and so finds none. We follow
    conlleval, so bare tags are left out of the comparisons with seqeval."""
    seqeval = pytest.importorskip("seqeval.metrics.sequence_labeling")
    assert seqeval.get_entities(["O", "PER", "O"]) == [("ER", 1, 1)]
    assert M.entity_spans(["O", "PER", "O"]) == []


# ---------------------------------------------------------------------- entities: CoNLL-2003 vs seqeval

TYPES = ("PER", "LOC", "ORG", "MISC")


@pytest.fixture(scope="module")
def conll_valid_tags(data_dir) -> list[list[str]]:
    path = data_dir / "conll2003" / "valid.txt"
    if not path.is_file():
        pytest.skip(f"data missing: {path}")
    return [tags for _, tags in read_conll(path)]


def _perturb(tags: list[str], rng: np.random.Generator, prefixes: str, p: float = 0.12) -> list[str]:
    """A noisy tagger's output: per token, with probability p, swap the type, turn B- into I- (drop B-), turn
    I- into B-, write O, or write a random entity tag. Some results are invalid in the scheme, on purpose."""
    out = []
    for tag in tags:
        if rng.random() < p:
            prefix, _, kind = tag.partition("-")
            move = int(rng.integers(5))
            if move == 0 and kind:
                tag = f"{prefix}-{rng.choice([t for t in TYPES if t != kind])}"
            elif move == 1 and prefix == "B":
                tag = f"I-{kind}"
            elif move == 2 and prefix == "I":
                tag = f"B-{kind}"
            elif move == 3:
                tag = "O"
            elif move == 4:
                tag = f"{rng.choice(list(prefixes))}-{rng.choice(TYPES)}"
        out.append(tag)
    return out


def _to_iob1(tags: list[str]) -> list[str]:
    """IOB2 -> IOB1, token by token: B- stays only right after a tag of the same type."""
    return [f"I-{t[2:]}" if t.startswith("B-") and not (i and tags[i - 1] != "O" and tags[i - 1][2:] == t[2:])
            else t for i, t in enumerate(tags)]


def _to_iobes(tags: list[str]) -> list[str]:
    """Any tagging -> IOBES, from the oracle's (seqeval's) entities, whose end is inclusive."""
    from seqeval.metrics.sequence_labeling import get_entities

    out = ["O"] * len(tags)
    for kind, s, e in get_entities(tags):
        out[s:e + 1] = [f"S-{kind}"] if s == e else [f"B-{kind}", *[f"I-{kind}"] * (e - s - 1), f"E-{kind}"]
    return out


def _check_against_seqeval(pred: list[list[str]], gold: list[list[str]]) -> dict:
    sq = pytest.importorskip("seqeval.metrics")
    ours = M.ner_scores(pred, gold)
    assert abs(ours["precision"] - sq.precision_score(gold, pred)) < TOL
    assert abs(ours["recall"] - sq.recall_score(gold, pred)) < TOL
    assert abs(ours["f1"] - sq.f1_score(gold, pred)) < TOL
    assert abs(ours["accuracy"] - sq.accuracy_score(gold, pred)) < TOL
    report = sq.classification_report(gold, pred, output_dict=True, zero_division=0)
    theirs = {k: v for k, v in report.items() if not k.endswith(" avg")}
    assert sorted(ours["per_type"]) == sorted(theirs)
    for kind, got in ours["per_type"].items():
        want = theirs[kind]
        assert got["support"] == want["support"], kind
        for key, their_key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert abs(got[key] - want[their_key]) < TOL, (kind, key)
    return ours


@pytest.mark.parametrize("seed", [0, 1])
def test_ner_matches_seqeval_on_conll2003_iob2_and_iob1(conll_valid_tags, seed):
    gold = conll_valid_tags
    rng = np.random.default_rng(seed)
    pred = [_perturb(t, rng, "BI") for t in gold]
    assert sum(len(t) for t in gold) > 50_000 and sum(p != g for p, g in zip(pred, gold)) > 1000
    iob2 = _check_against_seqeval(pred, gold)
    assert 0.5 < iob2["f1"] < 0.95  # the noise is real, but most entities survive
    assert M.ner_scores(gold, gold)["f1"] == 1.0

    gold1, pred1 = [_to_iob1(t) for t in gold], [_to_iob1(t) for t in pred]
    assert sum(t.startswith("B-") for s in gold1 for t in s) > 0  # valid has same-type neighbours
    iob1 = _check_against_seqeval(pred1, gold1)
    # the rewrite keeps every chunk, so the entity scores agree (token accuracy does not: the tags changed)
    assert all(M.entity_spans(a) == M.entity_spans(b) for a, b in zip(gold + pred, gold1 + pred1))
    assert {k: iob1[k] for k in ("precision", "recall", "f1", "per_type")} == \
        {k: iob2[k] for k in ("precision", "recall", "f1", "per_type")}


def test_ner_matches_seqeval_on_conll2003_iobes(conll_valid_tags):
    pytest.importorskip("seqeval")
    rng = np.random.default_rng(7)
    gold = [_to_iobes(t) for t in conll_valid_tags]
    assert all(M.entity_spans(a) == M.entity_spans(b) for a, b in zip(gold, conll_valid_tags))
    pred = [_perturb(t, rng, "BIES") for t in gold]
    _check_against_seqeval(pred, gold)


# ----------------------------------------------------------------------------- SQuAD vs the official script
# ORACLE: the official SQuAD v1.1 evaluation, evaluate-v1.1.py (Rajpurkar et al., 2016), pasted verbatim below
# (its command-line part left out). It reports percent; ours are fractions.


def official_normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def official_f1_score(prediction, ground_truth):
    prediction_tokens = official_normalize_answer(prediction).split()
    ground_truth_tokens = official_normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def official_exact_match_score(prediction, ground_truth):
    return (official_normalize_answer(prediction) == official_normalize_answer(ground_truth))


def official_metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


def official_evaluate(dataset, predictions):
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article['paragraphs']:
            for qa in paragraph['qas']:
                total += 1
                if qa['id'] not in predictions:
                    message = 'Unanswered question ' + qa['id'] + \
                              ' will receive score 0.'
                    print(message, file=sys.stderr)
                    continue
                ground_truths = list(map(lambda x: x['text'], qa['answers']))
                prediction = predictions[qa['id']]
                exact_match += official_metric_max_over_ground_truths(
                    official_exact_match_score, prediction, ground_truths)
                f1 += official_metric_max_over_ground_truths(
                    official_f1_score, prediction, ground_truths)

    exact_match = 100.0 * exact_match / total
    f1 = 100.0 * f1 / total

    return {'exact_match': exact_match, 'f1': f1}

# END ORACLE


@pytest.fixture(scope="module")
def squad_dev(data_dir):
    path = data_dir / "squad_v1" / "dev-v1.1.json.gz"
    if not path.is_file():
        pytest.skip(f"data missing: {path}")
    return read_squad(path)[:2000]


def _perturb_answer(text: str, rng: np.random.Generator, context: str) -> str:
    """A plausible wrong (or right) answer made from the first gold answer."""
    words = text.split()
    move = int(rng.integers(9))
    if move == 0:
        return text
    if move == 1 and len(words) > 1:  # drop a word
        del words[int(rng.integers(len(words)))]
    elif move == 2:  # add a word from the context
        extra = context.split()[int(rng.integers(len(context.split())))]
        words.insert(int(rng.integers(len(words) + 1)), extra)
    elif move == 3:
        return text.upper() if rng.random() < 0.5 else text.swapcase()
    elif move == 4:  # punctuation
        before, sep, after = rng.choice(["", "(", '"']), rng.choice([", ", " - ", " "]), rng.choice([".", ")", "!?"])
        return before + text.replace(" ", sep) + after
    elif move == 5:  # articles, which the normalisation drops
        return f"{rng.choice(['The', 'a', 'an', 'the'])} {text}"
    elif move == 6:
        return ""
    elif move == 7:  # whitespace, and a word that merely contains an article
        return f"  {text}\t theatre "
    else:  # a neighbouring span of the context
        ctx = context.split()
        i = int(rng.integers(len(ctx)))
        return " ".join(ctx[i:i + int(rng.integers(1, 6))])
    return " ".join(words)


def test_squad_matches_official_script(squad_dev):
    rng = np.random.default_rng(0)
    answers = {ex.id: [a.text for a in ex.answers] for ex in squad_dev}
    assert len(answers) == 2000
    predictions = {ex.id: _perturb_answer(ex.answers[0].text, rng, ex.context) for ex in squad_dev}
    for ex in squad_dev:
        pred, truths = predictions[ex.id], answers[ex.id]
        assert M.normalize_answer(pred) == official_normalize_answer(pred)
        assert M.squad_exact_match(pred, truths) == float(
            official_metric_max_over_ground_truths(official_exact_match_score, pred, truths))
        assert abs(M.squad_f1(pred, truths) - official_metric_max_over_ground_truths(
            official_f1_score, pred, truths)) < TOL
    for ex in squad_dev[::97]:  # a few unanswered questions score 0
        del predictions[ex.id]
    dataset = [{"paragraphs": [{"qas": [{"id": ex.id, "answers": [{"text": a.text} for a in ex.answers]}]}]}
               for ex in squad_dev]
    want = official_evaluate(dataset, predictions)
    got = M.squad_scores(predictions, answers)
    assert got["missing"] == len(squad_dev[::97])
    assert abs(got["exact_match"] - want["exact_match"] / 100) < TOL
    assert abs(got["f1"] - want["f1"] / 100) < TOL
    assert 0.2 < got["exact_match"] < got["f1"] < 0.9  # the perturbations bite, but not everywhere


def test_squad_hand_cases():
    assert M.normalize_answer("  The Eiffel-Tower, in PARIS!  ") == "eiffeltower in paris"
    assert M.normalize_answer("theatre an apple") == "theatre apple"
    assert M.squad_exact_match("the Denver Broncos", ["Denver Broncos", "Broncos"]) == 1.0
    assert M.squad_f1("Denver", ["Denver Broncos", "Broncos"]) == pytest.approx(2 / 3)
    assert M.squad_f1("", ["Broncos"]) == 0.0 and M.squad_f1("a", ["the"]) == 0.0
    s = M.squad_scores({"q1": "Broncos", "q3": "x"}, {"q1": ["Broncos"], "q2": ["Panthers"]})
    assert s == {"exact_match": 0.5, "f1": 0.5, "missing": 1}
    with pytest.raises(BertkitError, match="non-empty list"):
        M.squad_f1("x", "Broncos")
    with pytest.raises(BertkitError, match="non-empty list"):
        M.squad_exact_match("x", [])
