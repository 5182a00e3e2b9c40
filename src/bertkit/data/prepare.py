"""``bertkit prepare``: raw text -> sentences -> token ids -> a token store (:mod:`bertkit.data.store`).

Documents stream from :func:`bertkit.data.corpus.sized_documents`, file by file, in tasks of about
``task_bytes`` of raw text; each task is split into sentences (:mod:`bertkit.data.sentences`) and tokenized
without special tokens in a worker process (or in-process for one worker), and the results are appended in
task order, so the store is the same for any number of workers. At most ``2 * workers + 2`` tasks are in
flight, so memory is bounded by them, not by the corpus. Empty sentences and documents without tokens are
dropped.

The store is built in a temporary folder beside the output and renamed into place when complete
(:func:`bertkit.utils.io.atomic_dir`). Its manifest records what it was built from: each input's absolute
path, size, mtime and sha256 (of the file as stored, ``.gz`` included), the tokenizer's vocab sha256 and
config, and the settings. A second run with the same inputs, tokenizer and settings does nothing; an
input whose size and mtime match is taken as unchanged without hashing it again (a touched file is hashed
and compared). Reference: google-research/bert ``create_pretraining_data.py`` (one sentence per line, a
blank line between documents), whose tokenization step this precomputes once.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import time
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from bertkit.data import sentences as sentences_module
from bertkit.data.corpus import find_files, sized_documents
from bertkit.data.sentences import split_sentences
from bertkit.data.store import TOKENIZER_DIR, StoreWriter, read_manifest, sha256_file, token_dtype
from bertkit.tokenizer import Tokenizer
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_dir

TASK_BYTES = 1 << 20  # raw text per worker task
MAX_WORKERS = 8
BUILDING = ".building"  # in a store being built: the builder's pid, so a later run can clear a dead build


@dataclass
class PrepareResult:
    """What :func:`prepare` did: the store's counts, and how long reading + tokenizing took."""

    path: Path
    up_to_date: bool  # True: the store was already built from these inputs; nothing was done
    num_documents: int
    num_sentences: int
    num_tokens: int
    raw_bytes: int  # uncompressed UTF-8 bytes of the inputs
    seconds: float
    workers: int

    @property
    def mb_per_s(self) -> float:
        return self.raw_bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0


def default_workers() -> int:
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1))


def prepare(
    inputs: Sequence[str | os.PathLike],
    tokenizer_dir: str | os.PathLike,
    output: str | os.PathLike,
    *,
    workers: int | None = None,
    force: bool = False,
    progress: bool = False,
    task_bytes: int = TASK_BYTES,
) -> PrepareResult:
    """Build the token store ``output`` from ``inputs`` (files and folders) with the tokenizer folder.

    If ``output`` already holds a complete store of the same inputs, tokenizer and settings, returns at once
    (``up_to_date``). A different complete store there, or a non-empty folder that is not a store, is a
    BertkitError unless ``force`` (which rebuilds in any case); a store that is not complete is rebuilt.
    Returns the counts; raises BertkitError for bad inputs (missing, not UTF-8, no tokens at all).
    """
    out = Path(output)
    inside = out.resolve()
    files = [f for f in find_files(inputs) if not f.resolve().is_relative_to(inside)]  # output inside an input
    if not files:
        raise BertkitError(f"no input files besides the output folder {out}")
    tokenizer = Tokenizer.from_pretrained(tokenizer_dir)
    source = _source(files, Path(tokenizer_dir), tokenizer)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise BertkitError(f"--workers must be at least 1, got {workers}")

    existing = _existing(out, force)
    if existing is not None and not force:
        why = _difference(existing, source)
        if why is None:
            return PrepareResult(out, True, existing["num_documents"], existing["num_sentences"],
                                 existing["num_tokens"], existing.get("build", {}).get("raw_bytes", 0), 0.0, workers)
        raise BertkitError(f"{out}: holds a token store built from other {why} (pass --force to replace it)")
    _clear_dead_builds(out)

    t0 = time.perf_counter()
    with atomic_dir(out) as tmp:
        (tmp / BUILDING).write_text(str(os.getpid()))
        (tmp / TOKENIZER_DIR).mkdir()
        tokenizer.save_pretrained(tmp / TOKENIZER_DIR)
        writer = StoreWriter(tmp, tokenizer.vocab_size)
        try:
            per_file, raw_bytes = _build(files, Path(tokenizer_dir), tokenizer, writer, workers, progress,
                                         task_bytes)
        finally:
            writer.close()
        if writer.num_documents == 0:
            named = ", ".join(map(str, files[:3])) + (f" and {len(files) - 3} more files" if len(files) > 3 else "")
            raise BertkitError(f"no text to tokenize in {named} (all documents empty)")
        seconds = time.perf_counter() - t0
        for rec, counts in zip(source["inputs"], per_file):
            rec.update(counts)
        (tmp / BUILDING).unlink()
        _readable(tmp)
        manifest = writer.finish({
            **source,
            "build": {"raw_bytes": raw_bytes, "seconds": round(seconds, 3), "workers": workers,
                      "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        })
    return PrepareResult(out, False, manifest["num_documents"], manifest["num_sentences"],
                         manifest["num_tokens"], raw_bytes, seconds, workers)


def _readable(folder: Path) -> None:
    """Permissions as for any new folder (the temporary ones are private: mkdtemp/mkstemp use 0700/0600)."""
    umask = os.umask(0)
    os.umask(umask)
    for p in [folder, *folder.rglob("*")]:
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~umask)


# ---------------------------------------------------------------------------------- identity of a build
def _source(files: list[Path], tokenizer_dir: Path, tokenizer: Tokenizer) -> dict:
    """What a store is built from: inputs (without hashes yet), tokenizer, settings."""
    return {
        "inputs": [_stat(f) for f in files],
        "tokenizer": {
            "source": str(tokenizer_dir.resolve()),
            "vocab_sha256": sha256_file(tokenizer_dir / "vocab.txt"),
            "vocab_size": tokenizer.vocab_size,
            "lowercase": tokenizer.do_lower_case,
            "config": tokenizer.config.to_dict(),
        },
        "settings": {
            "special_tokens": False,
            "sentence_splitter": "bertkit.data.sentences",
            # any edit of the splitter's source makes old stores out of date (a rebuild is safe, a stale store is not)
            "sentence_splitter_sha256": sha256_file(sentences_module.__file__),
        },
    }


def _stat(path: Path) -> dict:
    st = path.stat()
    return {"path": str(path.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": None}


def _difference(manifest: dict, source: dict) -> str | None:
    """None if a complete store's manifest was built from ``source``, else what differs ("inputs", ...).
    Fills in ``source``'s hash of an input whose mtime changed (it is hashed to compare)."""
    tok = manifest.get("tokenizer") or {}
    if tok.get("vocab_sha256") != source["tokenizer"]["vocab_sha256"] or tok.get("config") != source["tokenizer"]["config"]:
        return "tokenizer"
    if manifest.get("settings") != source["settings"]:
        return "settings (another bertkit version's sentence splitter)"
    old = manifest.get("inputs") or []
    if [r.get("path") for r in old] != [r["path"] for r in source["inputs"]]:
        return "inputs"
    for o, new in zip(old, source["inputs"]):
        if o.get("bytes") != new["bytes"]:
            return f"inputs ({new['path']} changed size)"
        if o.get("mtime_ns") != new["mtime_ns"]:
            new["sha256"] = sha256_file(new["path"])
            if new["sha256"] != o.get("sha256"):
                return f"inputs ({new['path']} changed)"
    return None


def _existing(out: Path, force: bool) -> dict | None:
    """The complete manifest at ``out``, or None if there is none (nothing there, or a store that never
    finished). A non-empty folder that is not a store is refused unless ``force``: it may be someone's data."""
    if not out.exists():
        return None
    if not out.is_dir():
        raise BertkitError(f"{out}: exists and is not a folder")
    try:
        m = read_manifest(out)
    except BertkitError:
        return None  # a broken manifest: a store that never finished
    if m is None:
        if any(out.iterdir()) and not force:
            raise BertkitError(f"{out}: folder is not empty and holds no token store (pass --force to replace it)")
        return None
    return m if m.get("complete") else None


def _clear_dead_builds(out: Path) -> None:
    """Remove temporary build folders beside ``out`` left by a killed run (their builder pid is gone)."""
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        return
    for tmp in parent.glob(f".{out.name}.*.tmp"):
        mark = tmp / BUILDING
        try:
            pid = int(mark.read_text())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -------------------------------------------------------------------------------------------- the build
def _tasks(path: Path, task_bytes: int) -> Iterator[tuple[list[list[str]], int]]:
    """(documents, raw bytes) batches of one file, about ``task_bytes`` of text each."""
    docs: list[list[str]] = []
    nbytes = 0
    for paragraphs, n in sized_documents(path):
        nbytes += n
        if paragraphs:
            docs.append(paragraphs)
        if nbytes >= task_bytes:
            yield docs, nbytes
            docs, nbytes = [], 0
    if docs or nbytes:
        yield docs, nbytes


_worker_tokenizer: Tokenizer | None = None


def _init_worker(tokenizer_dir: str) -> None:
    global _worker_tokenizer  # one per worker process, loaded once by the pool's initializer
    _worker_tokenizer = Tokenizer.from_pretrained(tokenizer_dir)


def _work(docs: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    assert _worker_tokenizer is not None
    return tokenize_documents(_worker_tokenizer, docs)


def tokenize_documents(tokenizer: Tokenizer, docs: Iterable[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each document's paragraphs into sentences and tokenize them without special tokens.

    Returns ``tokens`` (T,), ``sentence_lengths`` (S,) and ``document_sentences`` (D,), with empty sentences
    and documents without tokens dropped.
    """
    ids: list[list[int]] = []
    doc_sentences: list[int] = []
    for doc in docs:
        sents = [s for p in doc for s in split_sentences(p)]
        enc = [e for e in tokenizer.encode_batch_ids(sents, add_special_tokens=False) if e]
        if enc:
            ids += enc
            doc_sentences.append(len(enc))
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    dtype = token_dtype(tokenizer.vocab_size)
    tokens = np.fromiter(chain.from_iterable(ids), dtype=dtype, count=int(lengths.sum()))
    return tokens, lengths, np.asarray(doc_sentences, dtype=np.int64)


def _build(files, tokenizer_dir, tokenizer, writer: StoreWriter, workers, progress, task_bytes):
    """Tokenize every file into ``writer``; returns (per-file counts and hashes, total raw bytes)."""
    per_file: list[dict] = []
    raw_total = 0
    with _executor(workers, tokenizer_dir, tokenizer) as submit:
        bar = _progress_bar(files, progress)  # after the fork: tqdm may start a monitor thread
        pending: collections.deque = collections.deque()

        def drain(limit: int) -> None:
            while len(pending) > limit:
                fut, nbytes, rec = pending.popleft()
                tokens, lengths, doc_sents = fut()
                d0, s0, t0 = writer.num_documents, writer.num_sentences, writer.num_tokens
                writer.add(tokens, lengths, doc_sents)
                rec["documents"] += writer.num_documents - d0
                rec["sentences"] += writer.num_sentences - s0
                rec["tokens"] += writer.num_tokens - t0
                if bar is not None:
                    bar.update(nbytes)

        for path in files:
            rec = {"raw_bytes": 0, "documents": 0, "sentences": 0, "tokens": 0}
            per_file.append(rec)
            for docs, nbytes in _tasks(path, task_bytes):
                rec["raw_bytes"] += nbytes
                raw_total += nbytes
                pending.append((submit(docs), nbytes, rec))
                drain(2 * workers + 2)
            rec["sha256"] = sha256_file(path)  # just read: the OS cache holds it
        drain(0)
        if bar is not None:
            bar.close()
    return per_file, raw_total


@contextlib.contextmanager
def _executor(workers: int, tokenizer_dir: Path, tokenizer: Tokenizer):
    """``submit(docs) -> get()``: in-process for one worker, else a process pool (fork where available: the
    data layer imports no threads or torch, so forking is safe and avoids re-importing in each worker)."""
    if workers == 1:
        def submit(docs):
            result = tokenize_documents(tokenizer, docs)
            return lambda: result

        yield submit
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ctx.Pool(workers, initializer=_init_worker, initargs=(str(tokenizer_dir),))
    try:
        yield lambda docs: pool.apply_async(_work, (docs,)).get
        pool.close()
        pool.join()
    finally:
        pool.terminate()


def _progress_bar(files: list[Path], enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=_raw_size_estimate(files), unit="B", unit_scale=True, unit_divisor=1000,
                desc="prepare", disable=None, dynamic_ncols=True)


def _raw_size_estimate(files: list[Path]) -> int | None:
    """Uncompressed size of the inputs, from each ``.gz``'s ISIZE trailer (None if one looks wrapped)."""
    total = 0
    for f in files:
        size = f.stat().st_size
        if f.name.endswith(".gz") and size >= 18:
            with open(f, "rb") as fh:
                fh.seek(-4, os.SEEK_END)
                isize = int.from_bytes(fh.read(4), "little")
            if isize < size:  # over 4 GiB (ISIZE is mod 2**32) or several members
                return None
            size = isize
        total += size
    return total
