"""The post-processor of :class:`~bertkit.tokenizer.Tokenizer`: ``[CLS] A [SEP] (B [SEP])``, truncation, padding.

Reference: ``tokenizers``' ``TemplateProcessing``, ``truncate_encodings`` and ``pad_encodings`` as configured by
``transformers.BertTokenizerFast``.
"""

from __future__ import annotations

from bertkit.tokenizer.encoding import Encoding, normalize_padding, normalize_truncation, truncation_lengths


class PostProcessor:
    """Base of :class:`~bertkit.tokenizer.Tokenizer`: assembles sequences from the chunk engine into Encodings."""

    def _encode_one(self, text, pair, add_special_tokens, max_length, truncation, return_offsets) -> Encoding:
        strategy = normalize_truncation(truncation, max_length)
        if pair is None and add_special_tokens and not return_offsets and self._plain_ascii and type(text) is str:
            # the common case, built in place: [CLS] ids [SEP], word ids left to be derived from the ids
            self._check_cache()
            ids = [self.cls_token_id]
            ids += self._id_stream(text)
            ids.append(self.sep_token_id)
            n = len(ids)
            if strategy is None or n <= (self.model_max_length if max_length is None else max_length):
                return Encoding(ids, [0] * n, [1] * n, None, [(None, 1, None), (0, n - 2, None), (None, 1, None)],
                                self.ids_to_tokens, self._starts_word)
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
        return Encoding(ids, types, [1] * len(ids), offs, runs, self.ids_to_tokens, self._starts_word)

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
            e.pad(target - len(e.input_ids), self.pad_token_id)
