"""WordPiece: greedy longest-match-first split of one word into vocabulary pieces.

Reference: Google BERT ``tokenization.py`` (``WordpieceTokenizer``) and ``tokenizers``' ``models/wordpiece``:
continuing pieces carry the ``##`` prefix; a word longer than ``max_input_chars_per_word`` characters, or one
with a part that no piece matches, becomes a single unknown token spanning the whole word.
"""

from __future__ import annotations

from itertools import accumulate

PREFIX = "##"
MAX_INPUT_CHARS_PER_WORD = 100


class WordPiece:
    """Splits words into ``(token_id, start, end)`` pieces, ``start``/``end`` being character indices in the word.

    Args:
        vocab: token -> id.
        unk_id: the id emitted for a word that cannot be split.
        max_input_chars_per_word: longer words become one unknown token.
    """

    def __init__(self, vocab: dict[str, int], unk_id: int, max_input_chars_per_word: int = MAX_INPUT_CHARS_PER_WORD):
        self.vocab = vocab
        self.unk_id = unk_id
        self.max_input_chars_per_word = max_input_chars_per_word
        # prefix -> id (-1 when the prefix is not itself a token), for first and for continuing pieces: the
        # longest match is then found by extending a prefix, not by trying every shorter substring
        self._first: dict[str, int] = {}
        self._cont: dict[str, int] = {}
        self._lengths = [0] * (max(vocab.values(), default=-1) + 1)  # id -> characters of the word it covers
        for tok, tid in vocab.items():
            table, body = (self._cont, tok[len(PREFIX):]) if tok.startswith(PREFIX) else (self._first, tok)
            self._lengths[tid] = len(body)
            for k in range(1, len(body)):
                table.setdefault(body[:k], -1)
            if body:
                table[body] = tid

    def _piece(self, word: str, start: int, table: dict[str, int]) -> tuple[int, int]:
        """The longest token of ``table`` at ``word[start:]``: ``(id, end)``, id -1 when there is none."""
        n = len(word)
        best = -1
        best_end = end = start + 1
        while end <= n:
            tid = table.get(word[start:end])
            if tid is None:
                break
            if tid >= 0:
                best, best_end = tid, end
            end += 1
        return best, best_end

    def _match(self, word: str) -> list[int] | None:
        """Greedy longest match from the start of ``word`` (a word-initial piece, then continuing pieces): the
        ids, or None when a part matches no piece."""
        n = len(word)
        table = self._first
        tid = table.get(word)
        if tid is not None and tid >= 0:  # the whole word is a token: the longest match at once
            return [tid]
        ids: list[int] = []
        start = 0
        while start < n:
            tid, start = self._piece(word, start, table)
            if tid < 0:
                return None
            ids.append(tid)
            table = self._cont
        return ids

    def split(self, word: str) -> list[tuple[int, int, int]]:
        """Return the pieces of ``word`` as ``(id, start, end)``; one unknown piece if it cannot be split.

        A piece is a substring of the word, as long as its token without the ``##`` prefix."""
        ids = self.split_ids(word)
        if len(ids) == 1:  # the whole word: one token, or the unknown token for a word that cannot be split
            return [(ids[0], 0, len(word))]
        ends = list(accumulate(map(self._lengths.__getitem__, ids)))
        return list(zip(ids, [0, *ends[:-1]], ends))

    def split_ids(self, word: str) -> tuple[int, ...]:
        """The ids of :meth:`split` alone."""
        got = self._match(word) if len(word) <= self.max_input_chars_per_word else None
        return (self.unk_id,) if got is None else tuple(got)
