"""The post-processor of :class:`~bertkit.tokenizer.Tokenizer`: ``[CLS] A [SEP] (B [SEP])``, truncation, padding.

Reference: ``tokenizers``' ``TemplateProcessing``, ``truncate_encodings`` and ``pad_encodings`` as configured by
``transformers.BertTokenizerFast``.
"""

from __future__ import annotations

from itertools import chain

from bertkit.tokenizer.encoding import Encoding, normalize_padding, normalize_truncation, truncation_lengths


class PostProcessor:
    """Base of :class:`~bertkit.tokenizer.Tokenizer`: assembles sequences from the chunk engine into Encodings."""

    def _encode_many(self, texts, pairs, add_special_tokens, max_length, truncation, padding,
                     return_offsets) -> list[Encoding]:
        """One Encoding per text (and pair), unpadded: the loop of ``encode`` and ``encode_batch``."""
        strategy = normalize_truncation(truncation, max_length, padding)
        if pairs is not None or not add_special_tokens or return_offsets or not self._plain_ascii:
            return [self._encode_one(t, pairs[i] if pairs is not None else None, add_special_tokens, strategy,
                                     max_length, return_offsets) for i, t in enumerate(texts)]
        # the common case, built in place with the lookups hoisted: [CLS] ids [SEP], word ids left to be derived
        # from the ids, truncated in place (one text: the strategy only says how many of its tokens stay); a text
        # that is not a str takes the general path, which reports it
        limit = None if strategy is None else self.model_max_length if max_length is None else max_length
        cls, sep, get, chunks = self.cls_token_id, self.sep_token_id, self._ids.__getitem__, self._chunks
        itos, starts, cache, size = self.ids_to_tokens, self._starts_word, self._ids, self.cache_size
        lazy = Encoding.lazy
        out: list[Encoding] = []
        for text in texts:
            if len(cache) > size:
                self._check_cache()
            if type(text) is str:
                ids = [cls]
                ids += chain.from_iterable(map(get, chunks(text)))
                ids.append(sep)
                n = len(ids)
                if limit is not None and n > limit >= 2:  # tokenizers does not truncate when [CLS] [SEP] do not fit
                    keep, _ = truncation_lengths(n - 2, None, limit - 2, strategy)
                    del ids[1 + keep:-1]
                    n = len(ids)
                out.append(lazy(ids, [0] * n, [1] * n, None, [(None, 1, None), (0, n - 2, None), (None, 1, None)], itos,
                                starts))
                continue
            out.append(self._encode_one(text, None, True, strategy, max_length, False))
        return out

    def _encode_one(self, text, pair, add_special_tokens, strategy, max_length, return_offsets) -> Encoding:
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
                    del a_ids[k1:]
                    if a_words is not None:
                        del a_words[k1:]
                    if a_offs is not None:
                        del a_offs[k1:]
                if pair is not None and k2 < len(b_ids):
                    del b_ids[k2:]
                    if b_words is not None:
                        del b_words[k2:]
                    if b_offs is not None:
                        del b_offs[k2:]
        na = len(a_ids)
        special = (None, 1, None)
        if pair is None:
            if add_special_tokens:
                ids = [self.cls_token_id, *a_ids, self.sep_token_id]
                runs = [special, (0, na, a_words), special]
                offs = [(0, 0), *a_offs, (0, 0)] if a_offs is not None else None
            else:
                ids, runs, offs = a_ids, [(0, na, a_words)], a_offs
            types = [0] * len(ids)
        else:
            nb = len(b_ids)
            if add_special_tokens:
                ids = [self.cls_token_id, *a_ids, self.sep_token_id, *b_ids, self.sep_token_id]
                runs = [special, (0, na, a_words), special, (1, nb, b_words), special]
                offs = [(0, 0), *a_offs, (0, 0), *b_offs, (0, 0)] if a_offs is not None else None
                types = [0] * (na + 2) + [1] * (nb + 1)
            else:
                ids = a_ids + b_ids
                runs = [(0, na, a_words), (1, nb, b_words)]
                offs = a_offs + b_offs if a_offs is not None else None
                types = [0] * na + [1] * nb
        return Encoding.lazy(ids, types, [1] * len(ids), offs, runs, self.ids_to_tokens, self._starts_word)

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
            e.pad(target - len(e.input_ids), self.pad_token_id, self.pad_token)
