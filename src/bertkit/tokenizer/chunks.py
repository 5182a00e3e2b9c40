"""The chunk engine of :class:`~bertkit.tokenizer.Tokenizer`: text -> ids, word ids and offsets, through a cache.

Text is first cut on BERT's whitespace into chunks (:func:`~bertkit.tokenizer.pretokenize.split_chunks`). Each
distinct chunk runs once through the exact pipeline (special tokens in the text, :class:`BasicTokenizer`,
:class:`WordPiece`) and its ids, word starts and chunk-relative offsets are cached; an input is then assembled
with C-level iteration over cached tuples. The cache is cleared whenever it holds more than ``cache_size``
chunks, so memory stays bounded on any corpus.

Reference: ``tokenizers``' ``BertNormalizer``, ``BertPreTokenizer`` and ``WordPiece`` as configured by
``transformers.BertTokenizerFast``.
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from itertools import accumulate, chain, repeat
from operator import add

from bertkit.tokenizer.basic import BasicTokenizer, is_removed
from bertkit.tokenizer.pretokenize import ASCII_PUNCT, ASCII_WORD_RE, PY_CHUNK_RE, chunk_starts, split_chunks
from bertkit.tokenizer.wordpiece import PREFIX, WordPiece
from bertkit.utils.errors import BertkitError


@contextmanager
def _no_gc():
    """Pause the cyclic garbage collector for a batch, then file what it allocated under the oldest generation.

    A batch allocates millions of acyclic lists and tuples (its results and the cache): collections during it
    would cost more than the tokenization itself, and once the collector is back its young-generation passes
    would still walk every one of them (a quarter of a cold batch with offsets). ``gc.freeze()`` followed by
    ``gc.unfreeze()`` moves all tracked objects into the oldest generation at no cost; they are looked at by the
    next full collection, as any long-lived object is. The caller's own young objects move too (cycles among
    them are then freed by that full collection, not earlier). Skipped when the caller has frozen objects,
    which unfreezing would release.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


class _ChunkCache(dict):
    """chunk -> tuple of ids; a miss runs the exact pipeline (which also fills the side caches)."""

    __slots__ = ("fill",)

    def __missing__(self, chunk: str) -> tuple[int, ...]:
        return self.fill(chunk)


class ChunkEngine:
    """Base of :class:`~bertkit.tokenizer.Tokenizer`: the exact per-chunk pipeline and its caches.

    The subclass sets ``config``, ``vocab``, ``ids_to_tokens``, the special tokens and their ids, then calls
    :meth:`_init_engine`.
    """

    cache_size = 250_000  # chunks kept before the cache is cleared (about 130 MB at 10 MB of Wikipedia)

    def _init_engine(self) -> None:
        config = self.config
        self._basic = BasicTokenizer(config.do_lower_case, config.strip_accents, config.tokenize_chinese_chars)
        self._wordpiece = WordPiece(self.vocab, self.unk_token_id)
        # special tokens typed in the text are matched first, longest first (tokenizers' AddedVocabulary)
        specials = sorted(set(self.all_special_tokens), key=len, reverse=True)
        self._special_re = re.compile("|".join(map(re.escape, specials)))
        self._special_chars = frozenset(t[0] for t in specials)

        # chunk -> ids, and chunk -> flat (id, word start, start increment, start, end) per token
        self._ids: _ChunkCache = _ChunkCache()
        self._ids.fill = self._fill_ids
        self._flat: _ChunkCache = _ChunkCache()
        self._flat.fill = self._fill_flat
        self._empty: set[str] = set()  # chunks without tokens (they break the end-increment trick)
        self._words: dict[str, tuple[tuple[int, int, int], ...]] = {}  # word -> wordpieces
        self._word_ids: dict[str, tuple[int, ...]] = {}  # word -> their ids
        self._word_flat: dict[str, tuple[int, ...]] = {}  # ASCII word -> its flat entry as a chunk of its own
        # the ASCII shortcut needs the default pipeline (no never_split, basic tokenization on)
        self._plain_ascii = config.do_basic_tokenize and not self.never_split
        self._lowercase = self._basic.lowercase
        # 1 where a token id begins a word: all but the "##" continuations (special tokens always do)
        self._starts_word = [0 if t.startswith(PREFIX) else 1 for t in self.ids_to_tokens]
        for i in self.all_special_ids:
            self._starts_word[i] = 1
        self._special_first = "[" if self._special_chars == {"["} else ""
        # each ASCII punctuation character is a word of its own, of one token (itself, or the unknown token)
        self._punct_id = {c: self._wordpiece.split_ids(c)[0] for c in ASCII_PUNCT}
        self._punct_runs: dict[str, tuple[int, ...]] = {"": ()}

    def _chunk_pieces(self, chunk: str) -> list[tuple[int, int, int]]:
        """Exact pipeline for one whitespace-free chunk: ``[(id, start, end)]`` in chunk characters, where
        ``start < 0`` marks a token that continues the word before it (it stores ``-1 - start``)."""
        out: list[tuple[int, int, int]] = []
        segments: list[tuple[int, int, int | None]] = []  # (start, end, special id or None)
        pos = 0
        if any(c in chunk for c in self._special_chars):
            for m in self._special_re.finditer(chunk):
                if m.start() > pos:
                    segments.append((pos, m.start(), None))
                segments.append((m.start(), m.end(), self.vocab[m.group()]))
                pos = m.end()
        if pos < len(chunk):
            segments.append((pos, len(chunk), None))
        for s0, s1, sid in segments:
            if sid is not None:
                out.append((sid, s0, s1))
                continue
            seg = chunk[s0:s1]
            if self.never_split:
                cleaned = "".join(c for c in seg if not is_removed(c))
                if cleaned in self.never_split:  # BertTokenizerLegacy: kept whole, no lower-casing
                    out.append((self.vocab.get(cleaned, self.unk_token_id), s0, s1))
                    continue
            if self.config.do_basic_tokenize:
                words = self._basic.words(seg)
            else:
                words = [(seg, list(range(len(seg))))]
            for word, src in words:
                first = True
                for tid, a, b in self._split_word(word):
                    start = s0 + src[a]
                    out.append((tid, start if first else -1 - start, s0 + src[b - 1] + 1))
                    first = False
        return out

    def _split_word(self, word: str) -> tuple[tuple[int, int, int], ...]:
        got = self._words.get(word)
        if got is None:
            got = self._words[word] = tuple(self._wordpiece.split(word))
        return got

    def _fill(self, chunk: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        # Offsets are stored relative to the chunk's start, so nearly all of them are small ints (CPython keeps
        # one shared object for each of -5..256, which makes assembling them cheaper). The chunk's last token
        # carries len(chunk) + 1 (= the next chunk's start when one space separates them): an exclusive running
        # sum of those increments then gives every token its chunk's start without per-chunk Python work (see
        # _sequence).
        step = len(chunk) + 1
        flat: list[int] = []
        if self._plain_ascii and chunk.isascii() and chunk.isprintable() and self._special_first not in chunk:
            # ASCII without control characters: lower-casing is str.lower, NFD changes nothing, and every
            # character that is not a letter or digit is punctuation
            text = chunk.lower() if self._lowercase else chunk
            if text.isalnum():  # one word: the common case; "The" shares "the"'s entry
                f = self._word_flat.get(text) or self._new_word_flat(text)
                self._flat[chunk] = f
                t = self._ids[chunk] = f[0::5]
                return t, f
            core = text.strip(ASCII_PUNCT)
            if core.isalnum():  # one word with punctuation around it, as in _fill_ids
                i = text.find(core)
                j = i + len(core)
                pid = self._punct_id
                for k in range(i):
                    flat += (pid[text[k]], 1, 0, k, k + 1)
                w = self._word_flat.get(core) or self._new_word_flat(core)
                if i:
                    for k in range(0, len(w), 5):
                        flat += (w[k], w[k + 1], 0, w[k + 3] + i, w[k + 4] + i)
                else:
                    flat += w
                    flat[-3] = 0
                for k in range(j, len(text)):
                    flat += (pid[text[k]], 1, 0, k, k + 1)
            else:
                words = self._words
                for m in ASCII_WORD_RE.finditer(text):
                    w = m.group()
                    pieces = words.get(w)
                    if pieces is None:
                        pieces = self._split_word(w)
                    base = m.start()
                    first = 1
                    for tid, a, b in pieces:
                        flat += (tid, first, 0, base + a, base + b)
                        first = 0
        else:
            for tid, start, end in self._chunk_pieces(chunk):
                if start < 0:
                    flat += (tid, 0, 0, -1 - start, end)
                else:
                    flat += (tid, 1, 0, start, end)
        if flat:
            flat[-3] = step
        f = self._flat[chunk] = tuple(flat)
        t = self._ids[chunk] = f[0::5]
        if not t:
            self._empty.add(chunk)
        return t, f

    def _new_word_flat(self, word: str) -> tuple[int, ...]:
        """The flat entries of ``word`` alone as a chunk (its last token carries len(word) + 1)."""
        flat: list[int] = []
        first = 1
        for tid, a, b in self._wordpiece.split(word):
            flat += (tid, first, 0, a, b)
            first = 0
        flat[-3] = len(word) + 1
        f = self._word_flat[word] = tuple(flat)
        return f

    def _fill_ids(self, chunk: str) -> tuple[int, ...]:
        # A first sighting when only ids are wanted (no offsets): the cost of a cold run is mostly here, so the
        # ASCII shortcut of _fill is written out (is_plain_ascii inlined too), with a word -> ids cache shared by
        # every chunk holding the word
        if self._plain_ascii and chunk.isascii() and chunk.isprintable() and self._special_first not in chunk:
            text = chunk.lower() if self._lowercase else chunk
            word_ids = self._word_ids
            if text.isalnum():
                t = word_ids.get(text)
                if t is None:
                    t = word_ids[text] = self._wordpiece.split_ids(text)
            else:
                # printable ASCII: every character but letters and digits is a one-character word; most such
                # chunks are one word with punctuation around it ("(1998),"), cut with C-level strips
                core = text.strip(ASCII_PUNCT)
                if core.isalnum():
                    i = text.find(core)
                    runs = self._punct_runs  # a run of punctuation -> its ids
                    head = runs.get(text[:i])
                    if head is None:
                        head = self._punct_run(text[:i])
                    tail = runs.get(text[i + len(core):])
                    if tail is None:
                        tail = self._punct_run(text[i + len(core):])
                    t = head + (word_ids.get(core) or self._new_word_ids(core)) + tail
                else:
                    out: list[int] = []
                    for w in ASCII_WORD_RE.findall(text):
                        out += word_ids.get(w) or self._new_word_ids(w)
                    t = tuple(out)
            self._ids[chunk] = t
            return t
        return self._fill(chunk)[0]

    def _punct_run(self, run: str) -> tuple[int, ...]:
        t = self._punct_runs[run] = tuple([self._punct_id[c] for c in run])
        return t

    def _new_word_ids(self, word: str) -> tuple[int, ...]:
        t = self._word_ids[word] = self._wordpiece.split_ids(word)
        return t

    def _fill_flat(self, chunk: str) -> tuple[int, ...]:
        return self._fill(chunk)[1]

    def _chunks(self, text: str) -> list[str]:
        # without basic tokenization BertTokenizerLegacy splits on Python's whitespace
        return split_chunks(text) if self.config.do_basic_tokenize else text.split()

    def _chunk_starts(self, text: str) -> list[int]:
        """Start index of each chunk in ``text``."""
        if self.config.do_basic_tokenize:
            return chunk_starts(text)
        return [m.start() for m in PY_CHUNK_RE.finditer(text)]

    def _check_cache(self) -> None:
        if len(self._ids) > self.cache_size or len(self._flat) > self.cache_size:
            self._ids.clear(), self._flat.clear(), self._empty.clear(), self._words.clear(), self._word_ids.clear()
            self._word_flat.clear(), self._punct_runs.clear()
            self._punct_runs[""] = ()

    def _ids_of(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise BertkitError(f"expected a str to tokenize, got {type(text).__name__}")
        self._check_cache()
        return list(chain.from_iterable(map(self._ids.__getitem__, self._chunks(text))))

    def _sequence(self, text: str, offsets: bool):
        """ids, word ids, offsets (or None) of one text, without special tokens. Word ids are None where they
        follow from the ids (see :class:`~bertkit.tokenizer.encoding.Encoding`)."""
        if not isinstance(text, str):
            raise BertkitError(f"expected a str to tokenize, got {type(text).__name__}")
        self._check_cache()
        chunks = self._chunks(text)
        if not offsets and self._plain_ascii:
            # no need for the flat entries (five times longer) when only the ids are wanted
            return list(chain.from_iterable(map(self._ids.__getitem__, chunks))), None, None
        flat = list(chain.from_iterable(map(self._flat.__getitem__, chunks)))
        ids = flat[0::5]
        if self._plain_ascii:
            # with basic tokenization a word starts at every token but a "##" continuation: the Encoding derives
            # word ids from the ids if asked
            words = None
        else:
            words = list(accumulate(flat[1::5], initial=-1))
            del words[0]
        if not offsets:
            return ids, words, None
        n = len(chunks)
        if n and len(text) == sum(map(len, chunks)) + n - 1 and (not self._empty or self._empty.isdisjoint(chunks)):
            # one separator between chunks and none around them: a chunk starts where the one before ended + 1
            bases = list(accumulate(flat[2::5], initial=0))
        else:
            counts = map(len, map(self._ids.__getitem__, chunks))
            bases = list(chain.from_iterable(map(repeat, self._chunk_starts(text), counts)))
        offs = list(zip(map(add, flat[3::5], bases), map(add, flat[4::5], bases)))
        return ids, words, offs
