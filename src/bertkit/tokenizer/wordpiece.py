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
        # the longest piece bounds the search: no need to try substrings longer than it
        self._max_len = max((len(t) for t in vocab), default=1)
        self._max_len_cont = max((len(t) - len(PREFIX) for t in vocab if t.startswith(PREFIX)), default=0)

    def split(self, word: str) -> list[tuple[int, int, int]]:
        """Return the pieces of ``word`` as ``(id, start, end)``; one unknown piece if it cannot be split."""
        n = len(word)
        if n > self.max_input_chars_per_word:
            return [(self.unk_id, 0, n)]
        vocab = self.vocab
        pieces: list[tuple[int, int, int]] = []
        start = 0
        while start < n:
            if start == 0:
                end = min(n, self._max_len)
                while end > start:
                    tid = vocab.get(word[start:end])
                    if tid is not None:
                        break
                    end -= 1
            else:
                end = min(n, start + self._max_len_cont)
                while end > start:
                    tid = vocab.get(PREFIX + word[start:end])
                    if tid is not None:
                        break
                    end -= 1
            if end == start:
                return [(self.unk_id, 0, n)]
            pieces.append((tid, start, end))
            start = end
        return pieces
