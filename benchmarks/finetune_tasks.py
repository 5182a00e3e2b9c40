"""The fine-tuning benchmark's tasks and recipe: one table that both sides (bertkit and the ``transformers``
reference, ``finetune_reference.py``) read, so that they train on the same records with the same settings.

Each task names its files (relative to the shared data folder, ``bertkit.utils.paths.shared_data_dir()``), the
columns to read, and a subset: the FIRST ``train_limit`` / ``dev_limit`` records in file order (None = all), sized
so that one reference run (3 epochs, fp32, all-MiniLM-L6-v2) takes about 60-150 s on the 2-core benchmark CPU.
``note`` says why, with the estimated wall time of a run (3 x (train epoch + dev evaluation), not model loading).
The rates in it (items per second; QA: windows) were measured on 50 training and 64 dev items with
``OMP_NUM_THREADS=2`` (best of 3 passes, length-scaled to the subset) on 2026-12-01, on a machine shared with
other jobs, so take them as +-30 %. Under contention two OpenMP threads slow down far more than 2x.

Recipe: BERT paper appendix A.3 and the Hugging Face examples (run_glue.py, run_ner.py, run_qa.py, run_swag.py).
Label sets are the sorted set of the (subset's) training labels, as strings; label id = index. This module does
not import ``transformers`` (the bertkit side must not need it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bertkit.utils.paths import shared_data_dir

FAMILIES = ("classify", "regress", "ner", "qa", "choice")


@dataclass(frozen=True)
class Recipe:
    """Fine-tuning hyper-parameters shared by both sides (AdamW, linear warmup then linear decay to 0, fp32)."""

    learning_rate: float = 2e-5
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-6
    weight_decay: float = 0.01  # not on biases and LayerNorm weights
    warmup_ratio: float = 0.1  # warmup steps = ceil(ratio * total steps), as TrainingArguments
    max_grad_norm: float = 1.0
    batch_size: int = 32
    eval_batch_size: int = 32
    epochs: int = 3
    # question answering (run_qa.py / utils_qa.py); doc_stride is the tokenizer's overlap between windows
    doc_stride: int = 128
    max_query_length: int = 64
    n_best: int = 20
    max_answer_length: int = 30


RECIPE = Recipe()


@dataclass(frozen=True)
class BenchTask:
    """One benchmark task: where its data is, which records, how long a sequence, which metrics.

    ``text_columns`` / ``label_column`` are for the table formats (TSV, CSV): one text column, or two for a
    sentence pair. ``columns`` names the columns of a file without a header row (CoLA); None = first row is
    the header. CoNLL, SQuAD and JSON-lines files have fixed layouts and leave these empty.
    """

    name: str
    family: str
    train: str
    dev: str
    train_limit: int | None
    dev_limit: int | None
    max_length: int
    headline: str
    metrics: tuple[str, ...]
    note: str
    text_columns: tuple[str, ...] = ()
    label_column: str = ""
    columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"task {self.name}: family {self.family!r} is not one of {FAMILIES}")
        if self.headline not in self.metrics:
            raise ValueError(f"task {self.name}: headline {self.headline!r} is not among metrics {self.metrics}")
        if self.family in ("classify", "regress") and not (1 <= len(self.text_columns) <= 2 and self.label_column):
            raise ValueError(f"task {self.name}: a table task needs 1 or 2 text_columns and a label_column")

    def train_path(self) -> Path:
        return shared_data_dir() / self.train

    def dev_path(self) -> Path:
        return shared_data_dir() / self.dev


COLA_COLUMNS = ("source", "label", "author_mark", "sentence")

TASKS: tuple[BenchTask, ...] = (
    BenchTask(
        "sst2", "classify", "glue_sst2/train.tsv.gz", "glue_sst2/dev.tsv", 1500, None, 128,
        "accuracy", ("accuracy",),
        "first 1,500 of 67,349 train phrases (55% positive; ~13 tokens), full dev (872 sentences, ~25 tokens); "
        "est. ~105 s (train ~48 ex/s, dev ~220 ex/s)",
        text_columns=("sentence",), label_column="label",
    ),
    BenchTask(
        "cola", "classify", "glue_cola/train.tsv", "glue_cola/dev.tsv", None, None, 128,
        "mcc", ("mcc", "accuracy"),
        "all 8,551 train sentences (70% acceptable; ~12 tokens), full dev (1,043, in- and out-of-domain); "
        "header-less 4-column TSV; with the first 2,000 both sides predicted 'acceptable' for every sentence "
        "(MCC 0); est. ~400 s for the reference (train ~62 ex/s, dev ~400 ex/s)",
        text_columns=("sentence",), label_column="label", columns=COLA_COLUMNS,
    ),
    BenchTask(
        "mrpc", "classify", "glue_mrpc/train.tsv", "glue_mrpc/dev.tsv", None, None, 128,
        "f1", ("f1", "accuracy"),
        "all 3,668 train pairs (68% paraphrase; ~53 tokens), full dev (408); f1 of label '1' as GLUE reports "
        "(predicting all '1' already gives 0.81, where both sides stayed with the first 700); est. ~560 s for "
        "the reference (train ~20 ex/s, dev ~92 ex/s)",
        text_columns=("#1 String", "#2 String"), label_column="Quality",
    ),
    BenchTask(
        "rte", "classify", "glue_rte/train.tsv", "glue_rte/dev.tsv", None, None, 128,
        "accuracy", ("accuracy",),
        "all 2,490 train pairs (~67 tokens; 12% longer than 128, cut longest-first), full dev (277); with the "
        "first 500 both sides stayed at chance; est. ~510 s for the reference (train ~15 ex/s, dev ~75 ex/s)",
        text_columns=("sentence1", "sentence2"), label_column="label",
    ),
    BenchTask(
        "sick", "classify", "sick/train.tsv", "sick/trial.tsv", 2000, None, 128,
        "accuracy", ("accuracy", "macro_f1"),
        "first 2,000 of 4,439 train pairs (~21 tokens; 3-way entailment_label, 54% NEUTRAL), the full trial "
        "set (495) as dev; est. ~105 s (train ~60 ex/s, dev ~230 ex/s)",
        text_columns=("sentence_A", "sentence_B"), label_column="entailment_label",
    ),
    BenchTask(
        "stsb", "regress", "glue_stsb/train.tsv", "glue_stsb/dev.tsv", 1500, None, 128,
        "spearman", ("spearman", "pearson"),
        "first 1,500 of 5,749 train pairs. The train file is ordered by genre (its first 2,000 rows are "
        "captions), so the subset is captions only (~19 tokens) while dev (all 1,500) mixes captions, news and "
        "forums; est. ~115 s (train ~53 ex/s, dev ~150 ex/s)",
        text_columns=("sentence1", "sentence2"), label_column="score",
    ),
    BenchTask(
        "conll", "ner", "conll2003/train.txt.gz", "conll2003/test.txt", 1500, 1000, 128,
        "f1", ("f1", "precision", "recall"),
        "first 1,500 of 14,041 train sentences (~20 tokens), first 1,000 of the 3,453 test (eng.testb) "
        "sentences as dev (1,838 entities; the whole test set would cost ~25 s per evaluation); est. ~115 s "
        "(train ~50 sentences/s, dev ~120 sentences/s)",
    ),
    BenchTask(
        "squad", "qa", "squadshifts_new_wiki/new_wiki_v1.0.json.gz", "squad_v1/dev-v1.1.json.gz", 150, 200, 384,
        "f1", ("f1", "exact_match"),
        "first 150 of 7,938 SQuADShifts new-wiki questions (~152 windows, 32 paragraphs), first 200 of 10,570 "
        "SQuAD v1.1 dev questions (~213 windows, 10 paragraphs of one article, Super_Bowl_50); est. ~135 s "
        "(train ~3.8 windows/s, dev ~50 windows/s). Far too little training for a good F1: it checks the "
        "plumbing and the speed; a meaningful QA score needs thousands of questions (~13 min per 1,000 over "
        "3 epochs here)",
    ),
    BenchTask(
        "hellaswag", "choice", "hellaswag/train.jsonl.gz", "hellaswag/dev.jsonl.gz", 160, 200, 128,
        "accuracy", ("accuracy",),
        "first 160 of 9,038 train examples (4 endings, ~45 tokens per pair), first 200 of 1,004 dev; est. "
        "~135 s (train ~5 ex/s, dev ~16 ex/s); expect chance (25%) at this size: it checks plumbing and speed",
    ),
    BenchTask(
        "imdb", "classify", "imdb/train.csv.gz", "imdb/test.csv.gz", 1000, 500, 128,
        "accuracy", ("accuracy",),
        "first 1,000 of 2,500 train reviews, first 500 of 2,500 test reviews (rows alternate negative/positive "
        "by id, so both are balanced); 91% of reviews are longer than 128 tokens and keep only their head; "
        "est. ~280 s, longer than the other tasks: with 300 reviews (30 steps, the table before 2026-12-03) "
        "both sides stayed near chance (0.50-0.64), where the best epoch is noise (BENCHMARKS.md)",
        text_columns=("text",), label_column="label",
    ),
)


def task(name: str) -> BenchTask:
    """The task called ``name`` (ValueError naming the known tasks otherwise)."""
    for t in TASKS:
        if t.name == name:
            return t
    raise ValueError(f"unknown task {name!r}; known: {', '.join(t.name for t in TASKS)}")
