"""BERT's pre-tokenization as a public step: whitespace chunks, then the basic tokenizer's words.

This is what runs before WordPiece, shared by :class:`bertkit.tokenizer.Tokenizer` (which also keeps offsets
and special tokens) and the vocabulary trainer (which only needs the words), so that a vocabulary is learned
on exactly the words the tokenizer will later split.

Two stages:

1. **Chunks.** Text is cut on BERT's whitespace (Rust's ``char::is_whitespace``, see
   :data:`basic.WHITESPACE`). For most text ``str.split()`` is exactly that cut and runs in C; text holding one
   of :data:`basic.SPLIT_MISMATCH` (characters Python calls whitespace but BERT removes) goes through a regular
   expression of the exact set. A chunk holds no whitespace, so its words never cross a chunk boundary and a
   chunk's words can be cached by the chunk.
2. **Words.** :class:`BasicTokenizer` on each chunk (clean, CJK spacing, lower-case / strip accents,
   punctuation split), with a shortcut for printable ASCII: there lower-casing is ``str.lower``, NFD changes
   nothing and every character that is not a letter or a digit is punctuation (a word of its own).

Reference: ``tokenizers``' ``BertNormalizer`` + ``BertPreTokenizer`` (``test_trainer.py`` checks the words
against them on real text).
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from bertkit.tokenizer.basic import SPLIT_MISMATCH, WHITESPACE, BasicTokenizer

_WS_CLASS = "".join(sorted(WHITESPACE)).replace("\\", "\\\\")
CHUNK_RE = re.compile(f"[^{_WS_CLASS}]+")  # a chunk under BERT's (Rust's) whitespace
PY_CHUNK_RE = re.compile(r"\S+")  # a chunk under str.split(): the same where no SPLIT_MISMATCH char occurs
ASCII_WORD_RE = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]")  # in printable ASCII, the rest is punctuation
ASCII_PUNCT = "".join(c for c in map(chr, range(33, 127)) if not c.isalnum())  # BERT's punctuation in ASCII


def needs_exact_split(text: str) -> bool:
    """True when ``str.split()`` would cut ``text`` differently from BERT (a SPLIT_MISMATCH character occurs)."""
    # every SPLIT_MISMATCH character is a control character: a printable text (one C pass) holds none
    return not text.isprintable() and any(c in text for c in SPLIT_MISMATCH)


def split_chunks(text: str) -> list[str]:
    """The whitespace-free chunks of ``text``, cut where BERT's pre-tokenizer cuts."""
    if not needs_exact_split(text):
        return text.split()
    return CHUNK_RE.findall(text)


def chunk_starts(text: str) -> list[int]:
    """Start index in ``text`` of each chunk of :func:`split_chunks`."""
    if not needs_exact_split(text):
        return [m.start() for m in PY_CHUNK_RE.finditer(text)]
    return [m.start() for m in CHUNK_RE.finditer(text)]


def is_plain_ascii(chunk: str) -> bool:
    """True for printable ASCII, where the basic tokenizer reduces to ``str.lower`` and :data:`ASCII_WORD_RE`."""
    return chunk.isascii() and chunk.isprintable()


class PreTokenizer:
    """Text -> BERT's normalised words (no offsets, no special tokens): the input the vocab trainer counts.

    Args:
        lowercase: ``do_lower_case``.
        strip_accents: None means "same as lowercase" (BERT's rule).
        tokenize_chinese_chars: each CJK ideograph a word of its own.
        cache_size: distinct chunks whose words are remembered before the cache is cleared.
    """

    def __init__(self, lowercase: bool = True, strip_accents: bool | None = None,
                 tokenize_chinese_chars: bool = True, cache_size: int = 500_000):
        self.basic = BasicTokenizer(lowercase, strip_accents, tokenize_chinese_chars)
        self.lowercase = self.basic.lowercase
        self.cache_size = cache_size
        self._cache: dict[str, tuple[str, ...]] = {}

    def chunk_words(self, chunk: str) -> tuple[str, ...]:
        """The words of one whitespace-free chunk (cached)."""
        got = self._cache.get(chunk)
        if got is None:
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            got = self._cache[chunk] = self._words(chunk)
        return got

    def _words(self, chunk: str) -> tuple[str, ...]:
        if is_plain_ascii(chunk):
            text = chunk.lower() if self.lowercase else chunk
            return (text,) if text.isalnum() else tuple(ASCII_WORD_RE.findall(text))
        return tuple(w for w, _ in self.basic.words(chunk))

    def words(self, text: str) -> list[str]:
        """All words of ``text`` in order."""
        out: list[str] = []
        for chunk in split_chunks(text):
            out += self.chunk_words(chunk)
        return out

    def iter_words(self, texts: Iterable[str]) -> Iterator[str]:
        """The words of many texts, one after the other."""
        for text in texts:
            yield from self.words(text)
