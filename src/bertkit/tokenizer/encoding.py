"""The Encoding of one input (single text or pair), and the truncation/padding rules that shape it.

Truncation follows ``tokenizers``' ``truncate_encodings`` (what ``BertTokenizerFast`` runs): the budget is
``max_length`` minus the special tokens (no truncation at all when ``max_length`` is smaller than that);
``longest_first`` splits the budget so that the shorter sequence keeps as much as it can and, when both must
be cut, each gets half with the odd token going to the longer one (the second when they tie);
``only_first``/``only_second`` cut one sequence and fail when it would have to lose all of its tokens or more.
A budget of zero empties both sequences whatever the strategy.
"""

from __future__ import annotations

from itertools import accumulate

from bertkit.utils.errors import BertkitError

STRATEGIES = ("longest_first", "only_first", "only_second")


class Encoding:
    """One encoded input, every list of the same length (tokens, padding included).

    ``word_ids`` index the pre-tokenised word within its own sequence (None for special tokens and padding);
    ``sequence_ids`` are 0/1 for the first/second text (None likewise); ``offsets`` (only when asked for) are
    character spans into the original string of the token's sequence, ``(0, 0)`` for specials and padding.

    The tokenizer builds ``input_ids``, ``token_type_ids``, ``attention_mask`` and ``offsets`` at once, as
    ``BertTokenizerFast`` returns them, and leaves ``special_tokens_mask``, ``sequence_ids``, ``word_ids`` and
    ``tokens`` to be derived on first access from the layout (runs of special tokens, first sequence, second
    sequence, padding) and a snapshot of the ids: most callers never read them, and building them was half the
    cost of encoding. They describe the encoding as made (and padded), whatever is later done to
    ``input_ids``. Pickled, an Encoding carries its fields, not the tokenizer's tables.
    """

    __slots__ = ("input_ids", "token_type_ids", "attention_mask", "offsets", "_runs", "_source", "_itos",
                 "_starts", "_derived", "__weakref__")
    FIELDS = ("input_ids", "token_type_ids", "attention_mask", "special_tokens_mask", "word_ids", "sequence_ids",
              "offsets", "tokens")

    def __init__(self, input_ids: list[int], token_type_ids: list[int], attention_mask: list[int],
                 special_tokens_mask: list[int], word_ids: list[int | None], sequence_ids: list[int | None],
                 offsets: list[tuple[int, int]] | None, tokens: list[str]):
        """Every field given (the tokenizer itself uses :meth:`lazy`)."""
        self.input_ids = input_ids
        self.token_type_ids = token_type_ids
        self.attention_mask = attention_mask
        self.offsets = offsets
        self._runs = self._source = self._itos = self._starts = None
        self._derived = {"special_tokens_mask": special_tokens_mask, "word_ids": word_ids,
                         "sequence_ids": sequence_ids, "tokens": tokens}

    @classmethod
    def lazy(cls, input_ids: list[int], token_type_ids: list[int], attention_mask: list[int],
             offsets: list[tuple[int, int]] | None, runs: list[tuple[int | None, int, list[int] | None]],
             itos: list[str], starts: list[int]) -> "Encoding":
        """An Encoding whose derived fields are built when first read.

        Args:
            runs: ``(sequence id or None, length, word ids or None)`` in token order, None marking special
                tokens and padding; word ids None means "from the ids": a word starts at every token whose
                ``starts[id]`` is 1 (true of every token but "##" continuations under basic tokenization).
            itos: id -> token string.
        """
        self = cls.__new__(cls)
        self.input_ids = input_ids
        self.token_type_ids = token_type_ids
        self.attention_mask = attention_mask
        self.offsets = offsets
        self._runs = runs
        self._source = tuple(input_ids)
        self._itos = itos
        self._starts = starts
        self._derived = {}
        return self

    def __len__(self) -> int:
        return len(self.input_ids)

    def _get(self, name: str):
        got = self._derived.get(name)
        if got is None:
            got = self._derived[name] = getattr(self, "_build_" + name)()
        return got

    def _build_special_tokens_mask(self) -> list[int]:
        out: list[int] = []
        for seq, n, _ in self._runs:
            out += [1 if seq is None else 0] * n
        return out

    def _build_sequence_ids(self) -> list[int | None]:
        out: list[int | None] = []
        for seq, n, _ in self._runs:
            out += [seq] * n
        return out

    def _build_word_ids(self) -> list[int | None]:
        out: list[int | None] = []
        pos = 0
        for seq, n, words in self._runs:
            if seq is None:
                out += [None] * n
            elif words is not None:
                out += words
            else:
                w = list(accumulate(map(self._starts.__getitem__, self._source[pos:pos + n]), initial=-1))
                del w[0]
                out += w
            pos += n
        return out

    def _build_tokens(self) -> list[str]:
        return list(map(self._itos.__getitem__, self._source))

    special_tokens_mask = property(lambda self: self._get("special_tokens_mask"),
                                   lambda self, v: self._derived.__setitem__("special_tokens_mask", v),
                                   doc="1 for the special tokens added around the text(s) and for padding, else 0.")
    sequence_ids = property(lambda self: self._get("sequence_ids"),
                            lambda self, v: self._derived.__setitem__("sequence_ids", v))
    word_ids = property(lambda self: self._get("word_ids"), lambda self, v: self._derived.__setitem__("word_ids", v))
    tokens = property(lambda self: self._get("tokens"), lambda self, v: self._derived.__setitem__("tokens", v))

    def pad(self, n: int, pad_id: int, pad_token: str) -> None:
        """Append ``n`` padding tokens (in place, as the lists already handed out see them)."""
        if n <= 0:
            return
        self.input_ids += [pad_id] * n
        self.token_type_ids += [0] * n
        self.attention_mask += [0] * n
        if self.offsets is not None:
            self.offsets += [(0, 0)] * n
        if self._runs is not None:
            self._runs = [*self._runs, (None, n, None)]
            self._source += (pad_id,) * n
        d = self._derived
        for name, value in (("special_tokens_mask", 1), ("word_ids", None), ("sequence_ids", None),
                            ("tokens", pad_token)):
            if name in d:
                d[name] += [value] * n

    def __getstate__(self) -> dict:
        return {f: getattr(self, f) for f in self.FIELDS}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Encoding):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.FIELDS)

    def __repr__(self) -> str:
        return "Encoding(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self.FIELDS) + ")"


def normalize_truncation(truncation: bool | str | None, max_length: int | None, padding: bool | str = False) -> str | None:
    """Map the user's ``truncation`` argument to a strategy name or None (HF's defaults)."""
    if truncation is None:
        # transformers: a max_length without an explicit truncation means longest_first, unless padding is
        # asked for (max_length is then the padded length)
        return "longest_first" if max_length is not None and normalize_padding(padding) is None else None
    if truncation is False:
        return None
    if truncation is True:
        return "longest_first"
    if truncation in STRATEGIES:
        return truncation
    if truncation == "do_not_truncate":
        return None
    raise BertkitError(f"truncation: unknown strategy {truncation!r} (expected one of {', '.join(STRATEGIES)})")


def normalize_padding(padding: bool | str) -> str | None:
    """Map the user's ``padding`` argument to ``"longest"``, ``"max_length"`` or None."""
    if padding is False or padding is None or padding == "do_not_pad":
        return None
    if padding is True or padding == "longest":
        return "longest"
    if padding == "max_length":
        return "max_length"
    raise BertkitError(f"padding: unknown strategy {padding!r} (expected longest or max_length)")


def truncation_lengths(n1: int, n2: int | None, budget: int, strategy: str) -> tuple[int, int | None]:
    """How many tokens each sequence keeps when at most ``budget`` (special tokens excluded) fit.

    Args:
        n1, n2: lengths of the first and second sequence (``n2`` None for a single text).
        budget: the room left for them.
        strategy: one of STRATEGIES.
    Returns:
        ``(keep1, keep2)``. Raises BertkitError where ``tokenizers`` raises.
    """
    if budget == 0:
        return 0, (0 if n2 is not None else None)
    total = n1 + (n2 or 0)
    if total <= budget:
        return n1, n2
    to_remove = total - budget
    if strategy == "longest_first":
        if n2 is None:
            return budget, None
        a, b = n1, n2
        swap = a > b
        if swap:
            a, b = b, a
        b = a if a > budget else max(a, budget - a)
        if a + b > budget:
            a = budget // 2
            b = a + budget % 2
        if swap:
            a, b = b, a
        return min(a, n1), min(b, n2)
    if strategy == "only_first" or n2 is None and strategy == "only_second":
        if strategy == "only_second":
            raise BertkitError("truncation only_second: second sequence not provided")
        if n1 > to_remove:
            return n1 - to_remove, n2
        raise BertkitError(f"truncation only_first: first sequence ({n1} tokens) too short to fit max_length")
    if n2 > to_remove:  # only_second
        return n1, n2 - to_remove
    raise BertkitError(f"truncation only_second: second sequence ({n2} tokens) too short to fit max_length")
