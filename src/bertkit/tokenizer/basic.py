"""BERT's basic tokenizer: clean text, space out CJK ideographs, lower-case / strip accents, split punctuation.

Semantics are those of the Rust `tokenizers` crate (``BertNormalizer`` + ``BertPreTokenizer``), which is what
``transformers.BertTokenizerFast`` runs; where it differs from the pure-Python reference (``BertTokenizerLegacy``,
Google's original ``tokenization.py``) we follow the Rust one:

* clean_text removes NUL, U+FFFD and categories Cc/Cf/Co except ``\\t\\n\\r`` (so ``\\x0b \\x0c \\x85`` are removed,
  not whitespace, and ``\\x1c-\\x1f`` are removed where Python's ``str.isspace`` calls them whitespace);
  whitespace is Rust's ``char::is_whitespace`` (Unicode White_Space), mapped to one space;
* no NFC (the legacy tokenizer applies NFC first);
* accents are stripped *before* lower-casing (the legacy does it after), so ``İ`` -> ``i̇`` keeps its dot;
* lower-casing is per code point (``Σ`` -> ``σ`` even at the end of a word, unlike ``str.lower``);
* CJK ranges are Rust's (0x2B920..0x2CEAF, where the legacy says 0x2B820..0x2CEAF);
* the Unicode tables of the Rust crates (older categories, newer case mappings) are matched through the
  generated exception lists in :mod:`bertkit.tokenizer._unicode_tables`.

Every normalised character comes from exactly one source character, so a token's offsets are the span from the
source of its first character to the end of the source of its last one (as in ``tokenizers``' alignments).
"""

from __future__ import annotations

import string
import unicodedata

from bertkit.tokenizer import _unicode_tables as _tables

# Rust's char::is_whitespace (Unicode White_Space) minus the Cc ones that clean_text removes first, plus \t\n\r.
WHITESPACE = frozenset(
    "\t\n\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Characters that Python's str.split() treats as whitespace but BERT (Rust) removes as control characters.
SPLIT_MISMATCH = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_RUST_WS = WHITESPACE | frozenset("\x0b\x0c\x85")  # what the pre-tokenizer splits on

_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
_ASCII_PUNCT = frozenset(string.punctuation)


def _in_ranges(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(a <= cp <= b for a, b in ranges)


_REMOVED_FLIP = frozenset(cp for a, b in _tables.REMOVED_FLIP for cp in range(a, b + 1))
_PUNCT_FLIP = frozenset(cp for a, b in _tables.PUNCT_FLIP for cp in range(a, b + 1))
_CCC_ZERO = frozenset(cp for a, b in _tables.CCC_ZERO for cp in range(a, b + 1))


def is_chinese_char(c: str) -> bool:
    """True for a CJK ideograph in the ranges that ``tokenizers`` spaces out."""
    return _in_ranges(ord(c), _CJK_RANGES)


def is_removed(c: str) -> bool:
    """True for a character that clean_text deletes (NUL, U+FFFD, control/format/private-use)."""
    if c in "\t\n\r":
        return False
    rule = c == "\x00" or c == "\ufffd" or unicodedata.category(c) in ("Cc", "Cf", "Co")
    return rule != (ord(c) in _REMOVED_FLIP)


def is_punctuation(c: str) -> bool:
    """True for a character that the pre-tokenizer isolates (ASCII punctuation or a P* category)."""
    rule = c in _ASCII_PUNCT or unicodedata.category(c)[0] == "P"
    return rule != (ord(c) in _PUNCT_FLIP)


def _rust_combining(x: str) -> int:
    """Canonical combining class as the Rust NFD sees it: marks newer than its tables are starters (0)."""
    return 0 if ord(x) in _CCC_ZERO else unicodedata.combining(x)


def _rust_nfd(c: str) -> str:
    """NFD of one character as the Rust crate computes it."""
    override = _tables.NFD_OVERRIDES.get(ord(c))
    return unicodedata.normalize("NFD", c) if override is None else override


def normalize_char(c: str, lowercase: bool, strip_accents: bool) -> str:
    """The normalised form of one source character, without the CJK spacing ('' if removed, ' ' if space)."""
    if is_removed(c):
        return ""
    if c in WHITESPACE:
        return " "
    override = _tables.MAP_OVERRIDES[(lowercase, strip_accents)].get(ord(c))
    if override is not None:
        return override
    s = c
    if strip_accents:
        s = "".join(x for x in unicodedata.normalize("NFD", s) if unicodedata.category(x) != "Mn")
    if lowercase:
        s = "".join(x.lower() for x in s)
    return s


class BasicTokenizer:
    """Splits one whitespace-free chunk of raw text into normalised words with their source spans.

    Args:
        lowercase: lower-case every character (``do_lower_case``).
        strip_accents: NFD then drop non-spacing marks; ``None`` means "same as lowercase" (BERT's rule).
        tokenize_chinese_chars: put each CJK ideograph in a word of its own.
    """

    def __init__(self, lowercase: bool = True, strip_accents: bool | None = None, tokenize_chinese_chars: bool = True):
        self.lowercase = bool(lowercase)
        self.strip_accents = self.lowercase if strip_accents is None else bool(strip_accents)
        self.tokenize_chinese_chars = bool(tokenize_chinese_chars)
        # per source character: (normalised string, isolated?) where isolated = CJK handled as its own word
        self._chars: dict[str, tuple[str, bool, bool]] = {}
        self._kinds: dict[str, int] = {}  # normalised character -> 0 word, 1 space, 2 punctuation

    def _char(self, c: str) -> tuple[str, bool, bool]:
        got = self._chars.get(c)
        if got is None:
            norm = normalize_char(c, self.lowercase, self.strip_accents)
            iso = self.tokenize_chinese_chars and norm != "" and is_chinese_char(c)
            # a kept combining mark may be moved by NFD's canonical reordering: take the staged path
            staged = self.strip_accents and not is_removed(c) and any(
                _rust_combining(x) and normalize_char(x, False, True) != ""
                for x in _rust_nfd(c)
            )
            got = self._chars[c] = (norm, iso, staged)
        return got

    def _normalized(self, text: str) -> list[tuple[str, int]]:
        """Normalised characters of ``text`` with their source indices (CJK ideographs wrapped in spaces)."""
        out: list[tuple[str, int]] = []
        chars = [self._char(c) for c in text]
        if any(ch[2] for ch in chars):
            return self._staged(text)
        for i, (norm, iso, _) in enumerate(chars):
            if iso:
                out.append((" ", i))
            for n in norm:
                out.append((n, i))
            if iso:
                out.append((" ", i))
        return out

    def _staged(self, text: str) -> list[tuple[str, int]]:
        """The stages of ``BertNormalizer`` one after the other, with ``tokenizers``' positional alignments.

        Only needed when NFD's canonical reordering moves a mark that survives accent stripping: the Rust
        ``NormalizedString`` gives each output character the alignment of the *position* it lands on.
        """
        seq: list[tuple[str, int]] = []
        for i, c in enumerate(text):  # clean_text and CJK spacing
            if is_removed(c):
                continue
            if c in WHITESPACE:
                seq.append((" ", i))
            elif self.tokenize_chinese_chars and is_chinese_char(c):
                seq += [(" ", i), (c, i), (" ", i)]
            else:
                seq.append((c, i))
        # NFD: each decomposition yields (char, inserted?) and runs of non-starters are sorted by class
        out: list[tuple[str, bool]] = []
        run: list[tuple[int, str, bool]] = []
        for c, _ in seq:
            for k, x in enumerate(_rust_nfd(c)):
                ccc = _rust_combining(x)
                if ccc:
                    run.append((ccc, x, k > 0))
                else:
                    out += [(y, ins) for _, y, ins in sorted(run, key=lambda r: r[0])]
                    run.clear()
                    out.append((x, k > 0))
        out += [(y, ins) for _, y, ins in sorted(run, key=lambda r: r[0])]
        aligned: list[tuple[str, int]] = []
        ptr = 0
        for x, ins in out:
            if ins:
                src = seq[ptr - 1][1] if ptr else 0
            else:
                src = seq[ptr][1]
                ptr += 1
            aligned.append((x, src))
        # drop non-spacing marks, then lower-case
        kept = [(x, s) for x, s in aligned if x == " " or normalize_char(x, False, True) != ""]
        if not self.lowercase:
            return kept
        return [(y, s) for x, s in kept for y in (x if x == " " else normalize_char(x, True, False))]

    def words(self, text: str) -> list[tuple[str, list[int]]]:
        """Split ``text`` into words; each word comes with the source index of each of its characters.

        Returns:
            ``[(word, src)]`` where ``len(src) == len(word)`` and ``src[i]`` is the index in ``text`` of the
            character that produced ``word[i]``.
        """
        out: list[tuple[str, list[int]]] = []
        cur: list[str] = []
        src: list[int] = []
        kinds = self._kinds
        for n, i in self._normalized(text):
            kind = kinds.get(n)
            if kind is None:
                kind = kinds[n] = 1 if n in _RUST_WS else 2 if is_punctuation(n) else 0
            if kind == 0:
                cur.append(n)
                src.append(i)
                continue
            if cur:
                out.append(("".join(cur), src))
                cur, src = [], []
            if kind == 2:
                out.append((n, [i]))
        if cur:
            out.append(("".join(cur), src))
        return out
