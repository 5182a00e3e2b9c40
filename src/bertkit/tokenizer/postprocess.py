"""The post-processor of :class:`~bertkit.tokenizer.Tokenizer`: ``[CLS] A [SEP] (B [SEP])``, truncation, padding.

Reference: ``tokenizers``' ``TemplateProcessing``, ``truncate_encodings`` and ``pad_encodings`` as configured by
``transformers.BertTokenizerFast``.
"""

from __future__ import annotations

from itertools import accumulate, chain, repeat

from bertkit.tokenizer.encoding import Encoding, normalize_padding, normalize_truncation, truncation_lengths


class PostProcessor:
    """Base of :class:`~bertkit.tokenizer.Tokenizer`: assembles sequences from the chunk engine into Encodings."""

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
