"""WordPiece: greedy longest-match-first split of one word into vocabulary pieces.

Reference: Google BERT ``tokenization.py`` (``WordpieceTokenizer``) and ``tokenizers``' ``models/wordpiece``:
continuing pieces carry the ``##`` prefix; a word longer than ``max_input_chars_per_word`` characters, or one
with a part that no piece matches, becomes a single unknown token spanning the whole word.
"""

from __future__ import annotations

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
        for tok, tid in vocab.items():
            table, body = (self._cont, tok[len(PREFIX):]) if tok.startswith(PREFIX) else (self._first, tok)
            for k in range(1, len(body)):
                table.setdefault(body[:k], -1)
            if body:
                table[body] = tid

    def split(self, word: str) -> list[tuple[int, int, int]]:
        """Return the pieces of ``word`` as ``(id, start, end)``; one unknown piece if it cannot be split."""
        n = len(word)
        if n > self.max_input_chars_per_word:
            return [(self.unk_id, 0, n)]
        table = self._first
        pieces: list[tuple[int, int, int]] = []
        start = 0
        while start < n:
            best = -1
            best_end = end = start + 1
            while end <= n:
                tid = table.get(word[start:end])
                if tid is None:
                    break
                if tid >= 0:
                    best, best_end = tid, end
                end += 1
            if best < 0:
                return [(self.unk_id, 0, n)]
            pieces.append((best, start, best_end))
            start = best_end
            table = self._cont
        return pieces
