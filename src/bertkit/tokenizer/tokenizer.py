"""The BERT WordPiece tokenizer: exact ``BertTokenizerFast`` output in pure Python, fast through a chunk cache.

Text is first cut on BERT's whitespace into chunks (for most text ``str.split()`` is exactly that cut; text that
holds one of :data:`basic.SPLIT_MISMATCH` goes through a regular expression of the exact set). Each distinct
chunk runs once through the exact pipeline (special tokens in the text, :class:`BasicTokenizer`,
:class:`WordPiece`) and its ids, word starts and chunk-relative offsets are cached; an input is then assembled
with C-level iteration over cached tuples. The cache is cleared whenever it holds more than ``cache_size``
chunks, so memory stays bounded on any corpus.

Reference: ``tokenizers`` (``BertNormalizer``, ``BertPreTokenizer``, ``WordPiece``, ``TemplateProcessing``,
``truncate_encodings``, ``decoders.WordPiece``) as configured by ``transformers.BertTokenizerFast``.
"""

from __future__ import annotations

import gc
import os
import re
from contextlib import contextmanager
from itertools import accumulate, chain, repeat
from operator import add
from pathlib import Path
from typing import Iterable, Sequence

from bertkit.tokenizer.basic import BasicTokenizer, is_removed
from bertkit.tokenizer.encoding import (
    Encoding,
    normalize_padding,
    normalize_truncation,
    truncation_lengths,
)
from bertkit.tokenizer.vocab import (
    CONFIG_FILE,
    SPECIAL_KEYS,
    VOCAB_FILE,
    TokenizerConfig,
    load_config,
    load_vocab,
    save_config,
    save_vocab,
)
from bertkit.tokenizer.pretokenize import ASCII_WORD_RE, PY_CHUNK_RE, chunk_starts, is_plain_ascii, split_chunks
from bertkit.tokenizer.wordpiece import PREFIX, WordPiece
from bertkit.utils.errors import BertkitError

_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
            (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))  # decoders::wordpiece::cleanup

_Entry = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]


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


class Tokenizer:
    """BERT WordPiece tokenizer (vocab + options), output identical to ``transformers.BertTokenizerFast``.

    Build it with :meth:`from_pretrained` (a folder with ``vocab.txt`` and optionally
    ``tokenizer_config.json``) or :meth:`from_vocab`.
    """

    cache_size = 250_000  # chunks kept before the cache is cleared (about 130 MB at 10 MB of Wikipedia)

    def __init__(self, tokens: list[str], config: TokenizerConfig):
        self.config = config
        self.ids_to_tokens: list[str] = list(tokens)
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(self.ids_to_tokens)}
        for key in SPECIAL_KEYS:
            tok = getattr(config, key)
            if not isinstance(tok, str) or not tok:
                raise BertkitError(f"{key}: expected a non-empty string, got {tok!r}")
            if tok not in self.vocab:
                raise BertkitError(f"{key}: {tok!r} is not in the vocabulary")
            if any(c.isspace() for c in tok):
                raise BertkitError(f"{key}: {tok!r} contains whitespace")
        self.unk_token, self.sep_token, self.pad_token = config.unk_token, config.sep_token, config.pad_token
        self.cls_token, self.mask_token = config.cls_token, config.mask_token
        self.unk_token_id = self.vocab[config.unk_token]
        self.sep_token_id = self.vocab[config.sep_token]
        self.pad_token_id = self.vocab[config.pad_token]
        self.cls_token_id = self.vocab[config.cls_token]
        self.mask_token_id = self.vocab[config.mask_token]
        self.model_max_length = config.model_max_length
        self.do_lower_case = config.do_lower_case
        self.all_special_tokens = [getattr(config, k) for k in SPECIAL_KEYS]
        self.all_special_ids = sorted({self.vocab[t] for t in self.all_special_tokens})
        self._special_ids = frozenset(self.all_special_ids)
        self.never_split = frozenset(config.never_split or ())

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
        self._word_flat: dict[str, tuple[int, ...]] = {}  # one-word ASCII chunk, lower-cased -> flat entry
        # the ASCII shortcut needs the default pipeline (no never_split, basic tokenization on)
        self._plain_ascii = config.do_basic_tokenize and not self.never_split
        self._lowercase = self._basic.lowercase
        # 1 where a token id begins a word: all but the "##" continuations (special tokens always do)
        self._starts_word = [0 if t.startswith(PREFIX) else 1 for t in self.ids_to_tokens]
        for i in self.all_special_ids:
            self._starts_word[i] = 1
        self._special_first = "[" if self._special_chars == {"["} else ""

    # ----------------------------------------------------------------------------------------------- loading
    @classmethod
    def from_vocab(
        cls,
        vocab_file: str | os.PathLike,
        *,
        do_lower_case: bool = True,
        strip_accents: bool | None = None,
        tokenize_chinese_chars: bool = True,
        never_split: Iterable[str] | None = None,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        model_max_length: int = 512,
        do_basic_tokenize: bool = True,
    ) -> "Tokenizer":
        """Build from a ``vocab.txt`` (``.gz`` accepted) and options named as in Hugging Face."""
        cfg = TokenizerConfig(
            do_lower_case=do_lower_case,
            strip_accents=strip_accents,
            tokenize_chinese_chars=tokenize_chinese_chars,
            never_split=list(never_split) if never_split is not None else None,
            do_basic_tokenize=do_basic_tokenize,
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            model_max_length=model_max_length,
        )
        return cls(load_vocab(vocab_file), cfg)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> "Tokenizer":
        """Load a folder holding ``vocab.txt`` and optionally ``tokenizer_config.json`` (HF keys)."""
        d = Path(path)
        if not d.is_dir():
            raise BertkitError(f"{d}: no such directory")
        vocab = d / VOCAB_FILE
        if not vocab.exists():
            raise BertkitError(f"{vocab}: no such file (a tokenizer folder needs {VOCAB_FILE})")
        cfg_path = d / CONFIG_FILE
        cfg = load_config(cfg_path) if cfg_path.exists() else TokenizerConfig()
        return cls(load_vocab(vocab), cfg)

    def save_pretrained(self, path: str | os.PathLike) -> None:
        """Write ``vocab.txt`` and ``tokenizer_config.json`` into the existing folder ``path``."""
        d = Path(path)
        if not d.is_dir():
            raise BertkitError(f"{d}: output folder does not exist")
        save_vocab(self.ids_to_tokens, d / VOCAB_FILE)
        save_config(self.config, d / CONFIG_FILE)

    @property
    def vocab_size(self) -> int:
        return len(self.ids_to_tokens)

    def __len__(self) -> int:
        return len(self.ids_to_tokens)

    # ------------------------------------------------------------------------------------ the exact pipeline
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
        if self._plain_ascii and is_plain_ascii(chunk) and self._special_first not in chunk:
            # ASCII without control characters: lower-casing is str.lower, NFD changes nothing, and every
            # character that is not a letter or digit is punctuation
            text = chunk.lower() if self._lowercase else chunk
            words = self._words
            if text.isalnum():  # one word: the common case, without the regex; "The" shares "the"'s entry
                f = self._word_flat.get(text)
                if f is None:
                    pieces = words.get(text)
                    if pieces is None:
                        pieces = self._split_word(text)
                    first = 1
                    for tid, a, b in pieces:
                        flat += (tid, first, 0, a, b)
                        first = 0
                    flat[-3] = step
                    f = self._word_flat[text] = tuple(flat)
                self._flat[chunk] = f
                t = self._ids[chunk] = f[0::5]
                return t, f
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

    def _fill_ids(self, chunk: str) -> tuple[int, ...]:
        if self._plain_ascii and is_plain_ascii(chunk) and self._special_first not in chunk:
            # ids only (no offsets wanted yet): the ASCII shortcut of _fill with a word -> ids cache
            text = chunk.lower() if self._lowercase else chunk
            word_ids = self._word_ids
            if text.isalnum():
                t = word_ids.get(text)
                if t is None:
                    t = word_ids[text] = tuple([p[0] for p in self._split_word(text)])
            else:
                out: list[int] = []
                for w in ASCII_WORD_RE.findall(text):
                    got = word_ids.get(w)
                    if got is None:
                        got = word_ids[w] = tuple([p[0] for p in self._split_word(w)])
                    out += got
                t = tuple(out)
            self._ids[chunk] = t
            return t
        return self._fill(chunk)[0]

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
            self._word_flat.clear()

    def _ids_of(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise BertkitError(f"expected a str to tokenize, got {type(text).__name__}")
        self._check_cache()
        return list(chain.from_iterable(map(self._ids.__getitem__, self._chunks(text))))

    def _sequence(self, text: str, offsets: bool):
        """ids, word ids, offsets (or None) of one text, without special tokens."""
        if not isinstance(text, str):
            raise BertkitError(f"expected a str to tokenize, got {type(text).__name__}")
        self._check_cache()
        chunks = self._chunks(text)
        if not offsets and self._plain_ascii:
            # with basic tokenization a word starts at every token but a "##" continuation: no need for the
            # flat entries (five times longer) to get word ids
            ids = list(chain.from_iterable(map(self._ids.__getitem__, chunks)))
            words = list(accumulate(map(self._starts_word.__getitem__, ids), initial=-1))
            del words[0]
            return ids, words, None
        flat = list(chain.from_iterable(map(self._flat.__getitem__, chunks)))
        ids = flat[0::5]
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

    # -------------------------------------------------------------------------------------------- public API
    def tokenize(self, text: str) -> list[str]:
        """The wordpiece strings of ``text`` (no special tokens added)."""
        return list(map(self.ids_to_tokens.__getitem__, self._ids_of(text)))

    def encode_ids(self, text: str, pair: str | None = None, *, add_special_tokens: bool = True) -> list[int]:
        """Only the input ids of ``text`` (and ``pair``), untruncated: the lean path for throughput."""
        ids = self._ids_of(text)
        if add_special_tokens:
            ids.insert(0, self.cls_token_id)
            ids.append(self.sep_token_id)
        if pair is not None:
            ids += self._ids_of(pair)
            if add_special_tokens:
                ids.append(self.sep_token_id)
        return ids

    def encode_batch_ids(self, texts: Sequence[str], *, add_special_tokens: bool = True) -> list[list[int]]:
        """:meth:`encode_ids` over many texts."""
        with _no_gc():
            return [self.encode_ids(t, add_special_tokens=add_special_tokens) for t in texts]

    def encode(
        self,
        text: str,
        pair: str | None = None,
        *,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        truncation: bool | str | None = None,
        padding: bool | str = False,
        pad_to_multiple_of: int | None = None,
        return_offsets: bool = False,
    ) -> Encoding:
        """Encode one text or a pair as ``[CLS] A [SEP] (B [SEP])``, as ``BertTokenizerFast.__call__`` does.

        Args:
            max_length: counts special tokens; without ``truncation`` it means ``longest_first`` (as in HF);
                ``truncation=True`` without it uses ``model_max_length``.
            truncation: None/False, True/"longest_first", "only_first" or "only_second".
            padding: False, True/"longest" (nothing to do for one input) or "max_length".
            pad_to_multiple_of: round the padded length up to a multiple of this (only when padding).
            return_offsets: fill ``Encoding.offsets`` (character spans into the original strings).
        """
        enc = self._encode_one(text, pair, add_special_tokens, max_length, truncation, return_offsets)
        self._pad([enc], padding, max_length, pad_to_multiple_of)
        return enc

    def encode_batch(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        *,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        truncation: bool | str | None = None,
        padding: bool | str = False,
        pad_to_multiple_of: int | None = None,
        return_offsets: bool = False,
    ) -> list[Encoding]:
        """:meth:`encode` over many inputs; ``padding="longest"`` pads to the longest of the batch."""
        if isinstance(texts, str):
            raise BertkitError("encode_batch: expected a list of texts, got one str")
        if pairs is not None and len(pairs) != len(texts):
            raise BertkitError(f"encode_batch: {len(texts)} texts but {len(pairs)} pairs")
        with _no_gc():
            encs = [
                self._encode_one(t, pairs[i] if pairs is not None else None, add_special_tokens, max_length,
                                 truncation, return_offsets)
                for i, t in enumerate(texts)
            ]
        self._pad(encs, padding, max_length, pad_to_multiple_of)
        return encs

    def _encode_one(self, text, pair, add_special_tokens, max_length, truncation, return_offsets) -> Encoding:
        strategy = normalize_truncation(truncation, max_length)
        if pair is None and add_special_tokens and not return_offsets and self._plain_ascii and type(text) is str:
            # the common case, built in place: [CLS] ids [SEP] with word ids from the ids themselves
            self._check_cache()
            ids = [self.cls_token_id]
            ids += chain.from_iterable(map(self._ids.__getitem__, self._chunks(text)))
            ids.append(self.sep_token_id)
            n = len(ids)
            if strategy is None or n <= (self.model_max_length if max_length is None else max_length):
                # [CLS] counts as a word start: starting from -2 puts the text's first word at 0
                words = list(accumulate(map(self._starts_word.__getitem__, ids), initial=-2))
                del words[0]
                words[0] = words[-1] = None
                seq = [0] * n
                seq[0] = seq[-1] = None
                special = [0] * n
                special[0] = special[-1] = 1
                tokens = list(map(self.ids_to_tokens.__getitem__, ids))
                return Encoding(ids, [0] * n, [1] * n, special, words, seq, None, tokens)
        a_ids, a_words, a_offs = self._sequence(text, return_offsets)
        if pair is not None:
            b_ids, b_words, b_offs = self._sequence(pair, return_offsets)
        if strategy is not None:
            limit = self.model_max_length if max_length is None else max_length
            n_added = (3 if pair is not None else 2) if add_special_tokens else 0
            if limit >= n_added:  # tokenizers does not truncate when the specials alone do not fit
                k1, k2 = truncation_lengths(len(a_ids), len(b_ids) if pair is not None else None,
                                            limit - n_added, strategy)
                if k1 < len(a_ids):
                    del a_ids[k1:], a_words[k1:]
                    if a_offs is not None:
                        del a_offs[k1:]
                if pair is not None and k2 < len(b_ids):
                    del b_ids[k2:], b_words[k2:]
                    if b_offs is not None:
                        del b_offs[k2:]
        na = len(a_ids)
        if pair is None:
            if add_special_tokens:
                ids = [self.cls_token_id, *a_ids, self.sep_token_id]
                words = [None, *a_words, None]
                seq = [0] * (na + 2)
                seq[0] = seq[-1] = None
                special = [0] * (na + 2)
                special[0] = special[-1] = 1
                offs = [(0, 0), *a_offs, (0, 0)] if a_offs is not None else None
            else:
                ids, words, seq, special, offs = a_ids, a_words, [0] * na, [0] * na, a_offs
            types = [0] * len(ids)
        else:
            nb = len(b_ids)
            if add_special_tokens:
                ids = [self.cls_token_id, *a_ids, self.sep_token_id, *b_ids, self.sep_token_id]
                words = [None, *a_words, None, *b_words, None]
                seq = [None, *repeat(0, na), None, *repeat(1, nb), None]
                special = [1, *repeat(0, na), 1, *repeat(0, nb), 1]
                offs = [(0, 0), *a_offs, (0, 0), *b_offs, (0, 0)] if a_offs is not None else None
                types = [0] * (na + 2) + [1] * (nb + 1)
            else:
                ids, words = a_ids + b_ids, a_words + b_words
                seq = [0] * na + [1] * nb
                special = [0] * (na + nb)
                offs = a_offs + b_offs if a_offs is not None else None
                types = [0] * na + [1] * nb
        tokens = list(map(self.ids_to_tokens.__getitem__, ids))
        return Encoding(ids, types, [1] * len(ids), special, words, seq, offs, tokens)

    def _pad(self, encs: list[Encoding], padding, max_length, pad_to_multiple_of) -> None:
        mode = normalize_padding(padding)
        if mode is None or not encs:
            return
        if mode == "max_length":
            target = self.model_max_length if max_length is None else max_length
        else:
            target = max(len(e.input_ids) for e in encs)
        if pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
        for e in encs:
            n = target - len(e.input_ids)
            if n <= 0:
                continue
            e.input_ids += [self.pad_token_id] * n
            e.token_type_ids += [0] * n
            e.attention_mask += [0] * n
            e.special_tokens_mask += [1] * n
            e.word_ids += [None] * n
            e.sequence_ids += [None] * n
            e.tokens += [self.pad_token] * n
            if e.offsets is not None:
                e.offsets += [(0, 0)] * n

    # ------------------------------------------------------------------------------------------- ids, decode
    def convert_tokens_to_ids(self, tokens: str | Iterable[str]) -> int | list[int]:
        """Token(s) to id(s); unknown tokens map to the unknown token's id."""
        if isinstance(tokens, str):
            return self.vocab.get(tokens, self.unk_token_id)
        get, unk = self.vocab.get, self.unk_token_id
        return [get(t, unk) for t in tokens]

    def convert_ids_to_tokens(self, ids: int | Iterable[int]) -> str | list[str]:
        """Id(s) to token string(s); BertkitError for an id outside the vocabulary."""
        n = len(self.ids_to_tokens)
        if isinstance(ids, int):
            if not 0 <= ids < n:
                raise BertkitError(f"token id {ids} outside the vocabulary (size {n})")
            return self.ids_to_tokens[ids]
        return [self.convert_ids_to_tokens(int(i)) for i in ids]

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Ids back to text, the string ``BertTokenizerFast.decode`` returns.

        Ids outside the vocabulary are skipped; a token not starting with ``##`` is joined with a space (except
        the first); each token then gets ``tokenizers``' per-token cleanup (`` .`` -> ``.`` and the like).
        """
        itos, n = self.ids_to_tokens, len(self.ids_to_tokens)
        special = self._special_ids if skip_special_tokens else frozenset()
        parts: list[str] = []
        for i in ids:
            i = int(i)
            if not 0 <= i < n or i in special:
                continue
            tok = itos[i]
            if parts:
                tok = tok[len(PREFIX):] if tok.startswith(PREFIX) else " " + tok
            for old, new in _CLEANUP:
                if old in tok:
                    tok = tok.replace(old, new)
            parts.append(tok)
        return "".join(parts)
