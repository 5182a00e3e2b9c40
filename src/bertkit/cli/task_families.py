"""The five task families, assembled for the finetune / evaluate / predict commands: for each, its file reader,
encoder, model class, objective, decoder, metrics and output rows (one table, no if-chains in the commands).

| task       | files                                  | model class                    | headline    |
|------------|----------------------------------------|--------------------------------|-------------|
| classify   | TSV / CSV / JSONL / TXT, text (+ pair) | BertForSequenceClassification  | accuracy*   |
| regress    | same, a numeric label                  | BertForSequenceClassification  | spearman    |
| ner        | CoNLL columns, or TXT                  | BertForTokenClassification     | f1          |
| qa         | SQuAD v1.1 JSON                        | BertForQuestionAnswering       | f1          |
| choice     | SWAG CSV, JSONL (context + endings)    | BertForMultipleChoice          | accuracy    |

The headline metric picks the best epoch in ``bertkit finetune`` (MRPC-style binary F1 and CoLA's MCC are
printed too; the accuracy of a classifier is its headline).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from bertkit.config import TaskDataConfig
from bertkit.data import finetune as ft
from bertkit.data.examples import (iob_tag, label_key, read_choice_examples, read_text_examples,
                                    read_words_examples)
from bertkit.data.tasks.squad import answer_mismatches, read_squad
from bertkit.model import (BertForMultipleChoice, BertForQuestionAnswering, BertForSequenceClassification,
                           BertForTokenClassification)
from bertkit.tasks import classify, metrics, ner, qa
from bertkit.utils.errors import BertkitError

log = logging.getLogger(__name__)


class Family:
    """What every task family provides (subclasses below); ``labels`` is the label list or None."""

    name: str
    model_cls: type
    label_kind: str
    max_length = 128
    headline: str
    group_by_length = True  # data.group_by_length's default: length-grouped training batches

    def read(self, path, data: TaskDataConfig, *, limit: int | None = None, need_labels: bool = True) -> list:
        raise NotImplementedError

    def labels_of(self, examples: list) -> list[str] | None:
        return None

    def config_update(self, labels: list[str] | None) -> dict[str, Any]:
        return {}

    def encode(self, tok, examples: list, data: TaskDataConfig, labels, *, training: bool,
               windows: bool = False) -> list:
        raise NotImplementedError

    def objective(self):
        raise NotImplementedError

    def decode(self, outputs: list, features: list, examples: list, labels, data: TaskDataConfig) -> list[dict]:
        """One prediction (a JSON-ready dict, the ``predict`` record) per example, in example order."""
        raise NotImplementedError

    def score(self, predictions: list[dict], examples: list, labels) -> dict[str, Any]:
        raise NotImplementedError

    def rows(self, predictions: list[dict], examples: list) -> list[dict[str, Any]]:
        """The results table: one row per example (its input, the prediction, the gold label)."""
        raise NotImplementedError

    def max_len(self, data: TaskDataConfig) -> int:
        return data.max_seq_length or self.max_length


def _per_example(outputs: list, features: list, n: int) -> list[list[np.ndarray]]:
    groups: list[list[np.ndarray]] = [[] for _ in range(n)]
    for out, f in zip(outputs, features):
        groups[f.example].append(out)
    return groups


class Classify(Family):
    name, model_cls, label_kind, headline = "classify", BertForSequenceClassification, "class", "accuracy"

    def read(self, path, data, *, limit=None, need_labels=True):
        return read_text_examples(path, columns=data.text_columns, label=data.label_column, limit=limit,
                                  need_labels=need_labels)

    def labels_of(self, examples):
        labels = ft.label_set([ex.label for ex in examples])
        if len(labels) < 2:
            raise BertkitError(f"{examples[0].where.split(': line')[0]}: the training labels hold only "
                               f"{labels} (classification needs at least two)")
        return labels

    def config_update(self, labels):
        return {"id2label": dict(enumerate(labels)), "label2id": {lab: i for i, lab in enumerate(labels)},
                "problem_type": "single_label_classification"}

    def encode(self, tok, examples, data, labels, *, training, windows=False):
        if windows and not training:
            return _windows(tok, examples, self.max_len(data), None)
        return ft.encode_texts(tok, examples, self.max_len(data), labels if training else None)

    def objective(self):
        return classify.ClassificationObjective()

    def decode(self, outputs, features, examples, labels, data):
        rows = [np.mean([classify.softmax(o[None])[0] for o in group], axis=0)  # windows: mean probabilities
                for group in _per_example(outputs, features, len(examples))]
        return [{"label": labels[int(p.argmax())], "probabilities": {lab: float(x) for lab, x in zip(labels, p)}}
                for p in rows]

    def score(self, predictions, examples, labels):
        # a model saved before labels were normalised may spell one differently ("1.0", "1 "): match by key
        by_key = {label_key(lab): lab for lab in labels}
        gold = [ex.label if ex.label in labels else by_key.get(label_key(ex.label), ex.label) for ex in examples]
        unseen = sorted({g for g in gold if g not in labels})
        if unseen:
            raise BertkitError(f"{examples[0].where.split(': line')[0]}: label(s) {', '.join(map(repr, unseen))} "
                               f"not among the model's labels ({', '.join(labels)})")
        return metrics.classification_scores([p["label"] for p in predictions], gold, labels)

    def rows(self, predictions, examples):
        return [{"text": ex.text, **({"pair": ex.pair} if ex.pair is not None else {}), "prediction": p["label"],
                 "probability": round(max(p["probabilities"].values()), 4), "gold": ex.label}
                for p, ex in zip(predictions, examples)]


def _windows(tok, examples, max_length: int, labels) -> list:
    """Long single texts as overlapping windows of ``max_length`` tokens (half a window apart); a pair is
    truncated as usual. Every window is a feature of its example."""
    out = []
    body = max_length - 2
    for n, ex in enumerate(examples):
        if ex.pair is not None:
            feats = ft.encode_texts(tok, [ex], max_length, labels)
        else:
            ids = tok.encode_ids(ex.text, add_special_tokens=False)
            stride = max(body // 2, 1)
            starts = list(range(0, max(len(ids) - body, 0) + 1, stride))
            if starts[-1] + body < len(ids):  # the last window ends with the text
                starts.append(len(ids) - body)
            feats = [ft.Feature([tok.cls_token_id, *ids[s:s + body], tok.sep_token_id],
                                [0] * (len(ids[s:s + body]) + 2)) for s in starts]
        for f in feats:
            f.example = n
        out += feats
    return out


class Regress(Family):
    name, model_cls, label_kind, headline = "regress", BertForSequenceClassification, "score", "spearman"

    def read(self, path, data, *, limit=None, need_labels=True):
        return read_text_examples(path, columns=data.text_columns, label=data.label_column, scores=True,
                                  limit=limit, need_labels=need_labels)

    def config_update(self, labels):
        return {"id2label": {0: "LABEL_0"}, "label2id": {"LABEL_0": 0}, "problem_type": "regression"}

    def encode(self, tok, examples, data, labels, *, training, windows=False):
        if windows and not training:
            return _windows(tok, examples, self.max_len(data), None)
        return ft.encode_texts(tok, examples, self.max_len(data), regression=training)

    def objective(self):
        return classify.RegressionObjective()

    def decode(self, outputs, features, examples, labels, data):
        return [{"score": float(np.mean([o.reshape(-1)[0] for o in group]))}
                for group in _per_example(outputs, features, len(examples))]

    def score(self, predictions, examples, labels):
        return metrics.regression_scores([p["score"] for p in predictions], [float(ex.label) for ex in examples])

    def rows(self, predictions, examples):
        return [{"text": ex.text, **({"pair": ex.pair} if ex.pair is not None else {}),
                 "prediction": round(p["score"], 4), "gold": ex.label} for p, ex in zip(predictions, examples)]


class Ner(Family):
    name, model_cls, label_kind, headline = "ner", BertForTokenClassification, "tokens", "f1"
    # random batches: grouped by length, CoNLL-2003's many short lines (headlines, datelines, scores) fill
    # whole batches of their own, and entity F1 fell (median 0.235 against 0.307 random, 5 seeds; BENCHMARKS.md)
    group_by_length = False

    def read(self, path, data, *, limit=None, need_labels=True):
        examples = read_words_examples(path, limit=limit, columns=data.text_columns)
        if need_labels and any(ex.tags is None for ex in examples):
            raise BertkitError(f"{path}: no tags (a CoNLL file with the tag in the last column is needed here)")
        return examples

    def labels_of(self, examples):
        return ft.label_set([t for ex in examples for t in ex.tags])

    def config_update(self, labels):
        return {"id2label": dict(enumerate(labels)), "label2id": {lab: i for i, lab in enumerate(labels)}}

    def encode(self, tok, examples, data, labels, *, training, windows=False):
        feats = ft.encode_words(tok, examples, self.max_len(data), labels if training else None)
        cut = sum(len(f.word_starts) < len(ex.words) for f, ex in zip(feats, examples))
        if cut:
            log.warning("%d of %d sentences are longer than %d tokens: their last words are not %s", cut,
                        len(examples), self.max_len(data), "trained on" if training else "tagged (predicted O)")
        return feats

    def objective(self):
        return ner.TokenClassificationObjective()

    def decode(self, outputs, features, examples, labels, data):
        out = []
        for o, f, ex in zip(outputs, features, examples):
            tags = ner.word_tags(o, f.word_starts, len(ex.words), labels)
            out.append({"tags": tags, "entities": ner.entities(tags, ex.text, ex.spans)})
        return out

    def score(self, predictions, examples, labels):
        return metrics.ner_scores([p["tags"] for p in predictions], [ex.tags for ex in examples])

    def rows(self, predictions, examples):
        def fmt(ents):
            return "; ".join(f"{e['type']}: {e['text']}" for e in ents)

        out = []
        for p, ex in zip(predictions, examples):
            gold = ner.entities(ex.tags, ex.text, ex.spans) if ex.tags is not None else []
            out.append({"text": ex.text, "prediction": fmt(p["entities"]), "gold": fmt(gold),
                        "correct": fmt(p["entities"]) == fmt(gold)})
        return out


class QA(Family):
    name, model_cls, label_kind, headline = "qa", BertForQuestionAnswering, "span", "f1"
    max_length = 384

    def read(self, path, data, *, limit=None, need_labels=True):
        examples = read_squad(path)[:limit] if limit else read_squad(path)
        if need_labels and not any(ex.answers for ex in examples):
            raise BertkitError(f"{path}: no question has an answer")
        return examples

    def encode(self, tok, examples, data, labels, *, training, windows=False):
        if training:
            bad = set(answer_mismatches(examples))
            if bad:
                log.warning("skipped %d of %d training questions whose answer text does not match the context at "
                            "its answer_start", len(bad), len(examples))
                examples = [ex for i, ex in enumerate(examples) if i not in bad]
            examples = [ex for ex in examples if ex.answers]
        return ft.encode_squad(tok, examples, self.max_len(data), data.doc_stride, data.max_query_length,
                               with_answers=training)

    def objective(self):
        return qa.SpanObjective()

    def decode(self, outputs, features, examples, labels, data):
        return qa.best_spans(outputs, features, [ex.context for ex in examples], n_best=data.n_best,
                             max_answer_length=data.max_answer_length)

    def score(self, predictions, examples, labels):
        # keyed by position, not by id: a file whose ids repeat is still scored question by question
        answered = [(i, p, ex) for i, (p, ex) in enumerate(zip(predictions, examples)) if ex.answers]
        return metrics.squad_scores({i: p["answer"] for i, p, _ in answered},
                                    {i: [a.text for a in ex.answers] for i, _, ex in answered})

    def rows(self, predictions, examples):
        return [{"id": ex.id, "question": ex.question, "prediction": p["answer"],
                 "gold": " | ".join(dict.fromkeys(a.text for a in ex.answers)),
                 "exact_match": metrics.squad_exact_match(p["answer"], [a.text for a in ex.answers])
                 if ex.answers else None} for p, ex in zip(predictions, examples)]


class Choice(Family):
    name, model_cls, label_kind, headline = "choice", BertForMultipleChoice, "class", "accuracy"

    def read(self, path, data, *, limit=None, need_labels=True):
        return read_choice_examples(path, limit=limit, need_labels=need_labels)

    def encode(self, tok, examples, data, labels, *, training, windows=False):
        return ft.encode_choices(tok, examples, self.max_len(data))

    def objective(self):
        return classify.ClassificationObjective()

    def decode(self, outputs, features, examples, labels, data):
        return classify.decode_choices(outputs)

    def score(self, predictions, examples, labels):
        return {"accuracy": metrics.accuracy([p["label"] for p in predictions], [ex.label for ex in examples])}

    def rows(self, predictions, examples):
        return [{"context": ex.context, "prediction": p["label"],
                 "predicted_ending": ex.endings[p["label"]], "gold": ex.label}
                for p, ex in zip(predictions, examples)]


FAMILIES: dict[str, Family] = {f.name: f for f in (Classify(), Regress(), Ner(), QA(), Choice())}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise BertkitError(f"unknown task {name!r} (one of {', '.join(FAMILIES)})")
    return FAMILIES[name]


def family_of_model(config, architectures: list[str] | None) -> Family:
    """The task a fine-tuned checkpoint was trained for, from its class and problem type."""
    arch = (architectures or [None])[0]
    for fam in FAMILIES.values():
        if fam.model_cls.__name__ == arch:
            if fam.model_cls is BertForSequenceClassification:
                return FAMILIES["regress" if config.problem_type == "regression" else "classify"]
            return fam
    raise BertkitError(f"the checkpoint's architecture {arch!r} has no task head; fine-tune it first "
                       f"(bertkit finetune) or name a fine-tuned model")



def load_finetuned(model_dir, task: str | None, *, device="cpu"):
    """A fine-tuned checkpoint, its task family and labels; ``task`` must fit the checkpoint's head when given.
    Returns (model in eval mode, tokenizer, family, labels or None)."""
    import json
    from pathlib import Path

    from bertkit.config import BertConfig
    from bertkit.convert import load_pretrained

    p = Path(model_dir)
    config = BertConfig.from_json_file(p / "config.json")
    raw = json.loads((p / "config.json").read_text(encoding="utf-8"))
    fam = family_of_model(config, raw.get("architectures"))
    if task is not None and task != fam.name:
        want = family(task)
        raise BertkitError(f"{p}: a {fam.model_cls.__name__} (task {fam.name}); --task {task} needs a "
                           f"{want.model_cls.__name__}")
    model, tok = load_pretrained(p, model_cls=fam.model_cls, device=device)
    if tok is None:
        raise BertkitError(f"{p}: no vocab.txt (the tokenizer is saved with every fine-tuned model)")
    labels = [config.id2label[i] for i in sorted(config.id2label)] if fam.name in ("classify", "ner") else None
    if fam.name == "ner":  # tags as the reader spells them (IO's PER as I-PER), also for models saved before
        labels = [iob_tag(t) for t in labels]
    return model, tok, fam, labels


def data_config(model_dir, overrides: list[str]):
    """The data settings a model was fine-tuned with (its run_config.yaml, when there), ``--set`` on top."""
    from pathlib import Path

    from bertkit.config import FinetuneConfig

    saved = Path(model_dir) / "run_config.yaml"
    cfg = FinetuneConfig.from_yaml(saved) if saved.is_file() else FinetuneConfig.default()
    return (cfg.with_overrides(overrides) if overrides else cfg).data


def check_max_length(fam: Family, data: TaskDataConfig, config) -> int:
    """The family's sequence length under ``data``, checked against the model's positions."""
    max_len = fam.max_len(data)
    if max_len > config.max_position_embeddings:
        raise BertkitError(f"data.max_seq_length={max_len} exceeds the model's max_position_embeddings="
                           f"{config.max_position_embeddings} (set a smaller one: --set data.max_seq_length=N)")
    return max_len


def predict_examples(model, tok, fam: Family, labels, examples: list, data: TaskDataConfig, *, dtype,
                     windows: bool = False, device="cpu") -> list[dict]:
    """Predictions for ``examples`` (one dict per example, in order) with a fine-tuned model."""
    from bertkit.tasks.inference import run_features

    check_max_length(fam, data, model.config)

    feats = fam.encode(tok, examples, data, labels, training=False, windows=windows)
    outs = run_features(model, feats, tok.pad_token_id, device=device, dtype=dtype)
    return fam.decode(outs, feats, examples, labels, data)
