"""The token store: a tokenized corpus on disk, memory-mapped for pretraining (what ``bertkit prepare`` writes).

A store is a folder::

    tokens.bin             (num_tokens,)        token ids, raw little-endian, uint16 (vocab <= 65,536) or uint32
    sentence_offsets.bin   (num_sentences + 1,) int64 little-endian: sentence i = tokens[so[i]:so[i + 1]]
    document_offsets.bin   (num_documents + 1,) int64 little-endian: document d = sentences do[d] .. do[d + 1] - 1
    tokenizer/             vocab.txt + tokenizer_config.json of the tokenizer used
    manifest.json          counts, dtype, file sizes and sha256, inputs, tokenizer, settings; "complete": true

Tokens carry no special tokens; no sentence and no document is empty. ``manifest.json`` is written last, and
``bertkit prepare`` builds the folder under a temporary name that is renamed only when it is whole, so a
folder without a complete manifest is never opened. Raw ``.bin`` files (not ``.npy``) so that the writer can
append to them as it goes; their dtypes and lengths are in the manifest. The layout follows the flat
"tokens + offsets" index of Megatron-LM's ``IndexedDataset`` and fairseq's ``MMapIndexedDataset``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bertkit.utils.errors import BertkitError

FORMAT = "bertkit-token-store"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TOKENS = "tokens.bin"
SENTENCES = "sentence_offsets.bin"
DOCUMENTS = "document_offsets.bin"
TOKENIZER_DIR = "tokenizer"
OFFSET_DTYPE = np.dtype("<i8")


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id fits (vocab_size <= 65,536), else uint32; little-endian."""
    return np.dtype("<u2") if vocab_size <= 1 << 16 else np.dtype("<u4")


@dataclass
class TokenStore:
    """An opened store (see the module docstring); arrays are read-only memory maps."""

    path: Path
    tokens: np.ndarray  # (num_tokens,) uint16 | uint32
    sentence_offsets: np.ndarray  # (num_sentences + 1,) int64
    document_offsets: np.ndarray  # (num_documents + 1,) int64
    vocab_size: int
    tokenizer_dir: Path
    manifest: dict = field(repr=False)

    @property
    def num_tokens(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def num_sentences(self) -> int:
        return int(self.sentence_offsets.shape[0]) - 1

    @property
    def num_documents(self) -> int:
        return int(self.document_offsets.shape[0]) - 1

    def __len__(self) -> int:
        return self.num_documents

    def sentence(self, i: int) -> np.ndarray:
        """The tokens of sentence ``i`` (a view of the memory map)."""
        so = self.sentence_offsets
        return self.tokens[so[i]:so[i + 1]]

    def document(self, d: int) -> list[np.ndarray]:
        """The sentences of document ``d``, each a (length,) view of the token memory map."""
        if not -self.num_documents <= d < self.num_documents:
            raise IndexError(f"document {d} out of range (0..{self.num_documents - 1})")
        d %= self.num_documents
        so = self.sentence_offsets
        lo, hi = int(self.document_offsets[d]), int(self.document_offsets[d + 1])
        return [self.tokens[so[i]:so[i + 1]] for i in range(lo, hi)]

    @classmethod
    def open(cls, path: str | os.PathLike) -> "TokenStore":
        """Open a complete store; BertkitError (one line, naming the path) if it is missing, incomplete or
        malformed. Checks the manifest, the file sizes and the offsets' end points (not the checksums: see
        :meth:`verify`)."""
        p = Path(path)
        m = read_manifest(p)
        if m is None:
            raise BertkitError(f"{p}: not a token store (no {MANIFEST}; build one with `bertkit prepare`)")
        if not m.get("complete"):
            raise BertkitError(f"{p}: incomplete token store ({MANIFEST} not marked complete); rebuild it")
        try:
            dtype = np.dtype(m["dtype"])
            n_tok, n_sent, n_doc = int(m["num_tokens"]), int(m["num_sentences"]), int(m["num_documents"])
            vocab_size = int(m["vocab_size"])
        except (KeyError, TypeError, ValueError) as e:
            raise BertkitError(f"{p / MANIFEST}: malformed manifest ({e.__class__.__name__}: {e})") from None
        if dtype not in (np.dtype("<u2"), np.dtype("<u4")) or dtype.itemsize < token_dtype(vocab_size).itemsize:
            raise BertkitError(f"{p / MANIFEST}: token dtype {m['dtype']!r} does not fit vocab_size {vocab_size}")
        if min(n_tok, n_sent, n_doc) < 1:
            raise BertkitError(f"{p / MANIFEST}: empty store ({n_tok} tokens, {n_doc} documents)")
        tokens = _map(p / TOKENS, dtype, n_tok)
        so = _map(p / SENTENCES, OFFSET_DTYPE, n_sent + 1)
        do = _map(p / DOCUMENTS, OFFSET_DTYPE, n_doc + 1)
        if so[0] != 0 or so[-1] != n_tok:
            raise BertkitError(f"{p / SENTENCES}: offsets run {so[0]}..{so[-1]}, expected 0..{n_tok}")
        if do[0] != 0 or do[-1] != n_sent:
            raise BertkitError(f"{p / DOCUMENTS}: offsets run {do[0]}..{do[-1]}, expected 0..{n_sent}")
        tok_dir = p / TOKENIZER_DIR
        if not (tok_dir / "vocab.txt").is_file():
            raise BertkitError(f"{tok_dir}: missing vocab.txt (the store's copy of its tokenizer)")
        return cls(p, tokens, so, do, vocab_size, tok_dir, m)

    def verify(self) -> None:
        """Full check: every file's sha256 against the manifest, offsets increasing, ids below vocab_size.
        Reads the whole store; BertkitError naming the first problem."""
        for name, rec in self.manifest.get("files", {}).items():
            if sha256_file(self.path / name) != rec.get("sha256"):
                raise BertkitError(f"{self.path / name}: sha256 differs from the manifest's")
        if np.any(np.diff(self.sentence_offsets) <= 0) or np.any(np.diff(self.document_offsets) <= 0):
            raise BertkitError(f"{self.path}: offsets not strictly increasing (an empty sentence or document)")
        if self.tokens.max() >= self.vocab_size:
            raise BertkitError(f"{self.path / TOKENS}: token id {self.tokens.max()} >= vocab_size {self.vocab_size}")


def read_manifest(path: str | os.PathLike) -> dict | None:
    """The manifest of the store folder ``path``; None if the folder or its manifest is absent.

    BertkitError if ``path`` is not a folder or the manifest is not a JSON object of this format.
    """
    p = Path(path)
    if not p.exists():
        raise BertkitError(f"{p}: no such token store folder")
    if not p.is_dir():
        raise BertkitError(f"{p}: is a file, expected a token store folder")
    mf = p / MANIFEST
    if not mf.is_file():
        return None
    try:
        m = json.loads(mf.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BertkitError(f"{mf}: malformed manifest ({e})") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise BertkitError(f"{mf}: not a {FORMAT} manifest")
    if m.get("format_version") != FORMAT_VERSION:
        raise BertkitError(f"{mf}: format_version {m.get('format_version')!r}, this bertkit reads {FORMAT_VERSION}")
    return m


def _map(path: Path, dtype: np.dtype, count: int) -> np.ndarray:
    """A read-only memory map of ``count`` items, checking the file's size first."""
    if not path.is_file():
        raise BertkitError(f"{path}: missing (the store is incomplete)")
    size = path.stat().st_size
    if size != count * dtype.itemsize:
        raise BertkitError(f"{path}: {size} bytes, the manifest says {count} x {dtype.itemsize}")
    return np.memmap(path, dtype=dtype, mode="r", shape=(count,))


def sha256_file(path: str | os.PathLike, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


class StoreWriter:
    """Appends tokenized documents to the three arrays of a store being built in ``folder`` (streaming:
    memory is bounded by one :meth:`add`), hashing as it writes; :meth:`finish` writes the manifest last."""

    def __init__(self, folder: Path, vocab_size: int):
        self.folder = Path(folder)
        self.vocab_size = vocab_size
        self.dtype = token_dtype(vocab_size)
        self.num_tokens = self.num_sentences = self.num_documents = 0
        self._files = {name: open(self.folder / name, "wb") for name in (TOKENS, SENTENCES, DOCUMENTS)}
        self._hash = {name: hashlib.sha256() for name in self._files}
        self._write(SENTENCES, np.zeros(1, OFFSET_DTYPE))
        self._write(DOCUMENTS, np.zeros(1, OFFSET_DTYPE))

    def _write(self, name: str, arr: np.ndarray) -> None:
        data = arr.tobytes()
        self._files[name].write(data)
        self._hash[name].update(data)

    def add(self, tokens: np.ndarray, sentence_lengths: np.ndarray, document_sentences: np.ndarray) -> None:
        """Append documents: ``tokens`` (T,) their ids in order, ``sentence_lengths`` (S,) > 0 summing to T,
        ``document_sentences`` (D,) > 0 summing to S."""
        if len(document_sentences) == 0:
            return
        self._write(TOKENS, np.asarray(tokens, self.dtype))
        self._write(SENTENCES, self.num_tokens + np.cumsum(sentence_lengths, dtype=OFFSET_DTYPE))
        self._write(DOCUMENTS, self.num_sentences + np.cumsum(document_sentences, dtype=OFFSET_DTYPE))
        self.num_tokens += int(len(tokens))
        self.num_sentences += int(len(sentence_lengths))
        self.num_documents += int(len(document_sentences))

    def close(self) -> None:
        for f in self._files.values():
            f.close()

    def finish(self, extra: dict[str, Any]) -> dict:
        """Close the arrays and write ``manifest.json`` (``extra`` merged in) with ``"complete": true``."""
        self.close()
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "complete": True,
            "dtype": self.dtype.str,
            "num_tokens": self.num_tokens,
            "num_sentences": self.num_sentences,
            "num_documents": self.num_documents,
            "vocab_size": self.vocab_size,
            "files": {
                name: {"bytes": (self.folder / name).stat().st_size, "sha256": h.hexdigest()}
                for name, h in self._hash.items()
            },
            **extra,
        }
        tmp = self.folder / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.folder / MANIFEST)
        return manifest
