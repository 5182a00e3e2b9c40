"""The BERT WordPiece tokenizer: exact ``BertTokenizerFast`` output in pure Python, fast through a chunk cache.

This module is the facade (loading, the public encode/decode API). The work is done by its two bases:
:class:`~bertkit.tokenizer.chunks.ChunkEngine` (text -> cached per-chunk ids, word ids and offsets, on the
pre-tokenization of :mod:`bertkit.tokenizer.pretokenize`) and :class:`~bertkit.tokenizer.postprocess.PostProcessor`
(special tokens, truncation, padding into an :class:`Encoding`). They share one object, so the hot paths read
their state as plain attributes.

Reference: ``tokenizers`` (``BertNormalizer``, ``BertPreTokenizer``, ``WordPiece``, ``TemplateProcessing``,
``truncate_encodings``, ``decoders.WordPiece``) as configured by ``transformers.BertTokenizerFast``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from bertkit.tokenizer.chunks import ChunkEngine, _no_gc
from bertkit.tokenizer.encoding import Encoding
from bertkit.tokenizer.postprocess import PostProcessor
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
from bertkit.tokenizer.wordpiece import PREFIX
from bertkit.utils.errors import BertkitError

_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
            (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))  # decoders::wordpiece::cleanup


class Tokenizer(ChunkEngine, PostProcessor):
    """BERT WordPiece tokenizer (vocab + options), output identical to ``transformers.BertTokenizerFast``.

    Build it with :meth:`from_pretrained` (a folder with ``vocab.txt`` and optionally
    ``tokenizer_config.json``) or :meth:`from_vocab`.
    """

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
        self._init_engine()

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
            max_length: counts special tokens; without ``truncation`` it means ``longest_first`` when there is no
                padding, and only the padded length with padding (as in HF); ``truncation=True`` without it uses
                ``model_max_length``.
            truncation: None/False, True/"longest_first", "only_first" or "only_second".
            padding: False, True/"longest" (nothing to do for one input) or "max_length".
            pad_to_multiple_of: round the padded length up to a multiple of this (only when padding).
            return_offsets: fill ``Encoding.offsets`` (character spans into the original strings).
        """
        [enc] = self._encode_many([text], None if pair is None else [pair], add_special_tokens, max_length, truncation,
                                  padding, return_offsets)
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
            encs = self._encode_many(texts, pairs, add_special_tokens, max_length, truncation, padding,
                                     return_offsets)
        self._pad(encs, padding, max_length, pad_to_multiple_of)
        return encs

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
