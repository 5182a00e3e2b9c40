"""``bertkit embed``: one vector per input line, streamed into a float32 ``.npy`` of shape (lines, hidden).

Memory is bounded by the batch and the sorting window, not the file: the lines are counted (and checked to be
UTF-8) first, the ``.npy`` is created at its final size and filled block by block, then renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

from bertkit.cli.options import add_packing_option, dtype_name, existing_dir, positive_int
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines


def add_parser(sub) -> None:
    p = sub.add_parser("embed", help="text lines -> sentence embeddings (.npy)",
                       description="Embed each line of INPUT with a BERT checkpoint and write a float32 array "
                                   "of shape (lines, hidden) in input order.")
    p.add_argument("--model", type=existing_dir, required=True, help="Hugging Face style model folder")
    p.add_argument("input", metavar="INPUT", help="UTF-8 text file (.gz ok), one text per line; - for stdin")
    p.add_argument("--output", "-o", type=Path, required=True, help="the .npy file to write")
    p.add_argument("--pooling", choices=("mean", "cls"), default="mean",
                   help="mean of the token vectors (default) or the [CLS] vector")
    p.add_argument("--normalize", action="store_true", help="L2-normalise each vector (cosine = dot product)")
    p.add_argument("--layer", type=int, default=-1,
                   help="take token vectors from layer K: 0 = embeddings, 1..N = encoder layers, -1 = last "
                        "(default), -2 = second to last, ...")
    p.add_argument("--batch-size", type=positive_int, default=64, help="texts per forward pass (default 64)")
    p.add_argument("--max-length", type=positive_int,
                   help="truncate to N tokens (default: the model's sentence-transformers max_seq_length if "
                        "it has one, else its max positions)")
    p.add_argument("--dtype", type=dtype_name, default="float32",
                   help="the weights' dtype: float32 (default; the vectors sentence-transformers gives), bfloat16, "
                        "float16 (GPU only), or auto: bfloat16 on GPUs and CPUs with native bf16, else float32")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--window", type=positive_int, default=4096,
                   help="texts sorted by length together (default 4096); under torchrun each process takes "
                        "whole windows in turn")
    add_packing_option(p)
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the encoder (runs padded; tens of seconds of compiling first)")
    p.set_defaults(run=run)


def default_max_length(model_dir: Path, tokenizer, config) -> int:
    """sentence-transformers' ``max_seq_length`` if the folder has one, else what the model can take."""
    limit = min(tokenizer.model_max_length or config.max_position_embeddings, config.max_position_embeddings)
    st = model_dir / "sentence_bert_config.json"
    if st.is_file():
        try:
            value = json.loads(st.read_text(encoding="utf-8")).get("max_seq_length")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BertkitError(f"{st}: not valid JSON ({e})") from None
        if isinstance(value, int) and value > 0:
            return min(value, limit)
    return limit


def count_lines(path: Path) -> int:
    """Count lines, checking that each is UTF-8 before any model work (errors name the line)."""
    return sum(1 for _ in read_lines(path))


@contextlib.contextmanager
def input_file(name: str):
    """The input as a file path: ``-`` is stdin, copied to a temporary file first (the lines are counted
    before the ``.npy`` is made, and read again to embed them) and checked line by line as it is copied, so
    that an error names ``<stdin>``; removed afterwards."""
    if name != "-":
        yield Path(name)
        return
    import os
    import tempfile

    from bertkit.utils.io import decode_lines

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise BertkitError("INPUT - (stdin) reaches one process only: under torchrun give a file every "
                           "process can read")
    fd, tmp = tempfile.mkstemp(prefix="bertkit-stdin-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.writelines(decode_lines(sys.stdin.buffer, "<stdin>", keep_ends=True))
        yield Path(tmp)
    finally:
        os.unlink(tmp)


def run(args) -> int:
    if args.output.suffix != ".npy":
        raise BertkitError(f"--output {args.output}: expected a .npy file name")
    with input_file(args.input) as path:
        return _embed(args, path)


def _embed(args, path: Path) -> int:
    import torch

    from bertkit.convert import load_pretrained
    from bertkit.model import BertModel, compile_model, set_packing
    from bertkit.tasks.features import EmbedOptions, embed_texts
    from bertkit.train.dist import setup, teardown
    from bertkit.train.loop import autocast_dtype
    from bertkit.utils.malloc import reuse_freed_memory

    n = count_lines(path)
    info = setup(args.device)  # under torchrun: this process's rank in the group (gloo on CPU, nccl on GPU)
    try:
        dtype = autocast_dtype(args.dtype, info.device)  # the weights' dtype here (embed casts, it does not autocast)
        model, tok = load_pretrained(args.model, model_cls=BertModel, dtype=dtype, device=info.device)
        set_packing(model, args.packing)
        if args.compile:
            model = compile_model(model, info.device, args.packing)
        cfg = model.config
        opts = EmbedOptions(pooling=args.pooling, normalize=args.normalize, layer=args.layer,
                            batch_size=args.batch_size, window=args.window,
                            max_length=args.max_length or default_max_length(args.model, tok, cfg))
        opts.check(cfg.num_hidden_layers)
        if opts.max_length > cfg.max_position_embeddings:
            raise BertkitError(f"--max-length {opts.max_length} exceeds the model's "
                               f"max_position_embeddings {cfg.max_position_embeddings}")
        bar = _progress(n, enabled=info.is_main)
        t0 = time.perf_counter()
        blocks = embed_texts(model, tok, read_lines(path), opts, part=(info.rank, info.world_size))
        with reuse_freed_memory(info.device.type == "cpu"):  # no fresh pages per batch (bertkit.utils.malloc)
            _write_rows(args.output, n, cfg.hidden_size, blocks, info, bar)
        bar.close()
    finally:
        teardown(info)
    dt = time.perf_counter() - t0
    if info.is_main:
        procs = f", {info.world_size} processes" if info.enabled else ""
        print(f"wrote {args.output}: {n} x {cfg.hidden_size} float32 in {dt:.1f} s "
              f"({n / max(dt, 1e-9):.0f} lines/s, {torch.get_num_threads()} threads{procs})", file=sys.stderr)
    return 0


def _write_rows(path: Path, n: int, width: int, blocks, info, bar) -> None:
    """Fill the (n, width) ``.npy`` at ``path`` with ``blocks`` of (positions, vectors). Under torchrun rank 0
    makes the temporary file, every process writes its own rows into it (a shared folder is assumed across
    machines), and rank 0 renames it into place once every row is there."""
    import numpy as np

    from bertkit.train.dist import gather_objects
    from bertkit.utils.io import atomic_path
    from bertkit.utils.npy import npy_rows

    if not info.enabled:
        with npy_rows(path, n, width) as rows:
            for positions, vectors in blocks:
                rows.put(positions, vectors)
                bar.update(len(positions))
        return
    with contextlib.ExitStack() as stack:
        tmp = None
        if info.is_main:
            tmp = stack.enter_context(atomic_path(path))
            np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, width)).flush()
        tmp = gather_objects(str(tmp) if tmp else None, info)[0]  # every process learns rank 0's file
        rows = np.load(tmp, mmap_mode="r+")
        done = 0
        for positions, vectors in blocks:
            rows[positions] = vectors
            done += len(positions)
            bar.update(len(positions) * info.world_size)  # rank 0's bar, scaled to the whole input
        rows.flush()
        del rows
        total = sum(gather_objects(done, info))  # also the barrier: every process has flushed its rows
        if total != n:
            raise BertkitError(f"{path}: the processes wrote {total} of {n} rows")


def _progress(total: int, enabled: bool = True):
    from tqdm import tqdm

    return tqdm(total=total, unit="line", disable=not (enabled and sys.stderr.isatty()), file=sys.stderr,
                dynamic_ncols=True)
