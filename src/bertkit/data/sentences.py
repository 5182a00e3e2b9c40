"""Rule-based sentence splitting of paragraphs, on character offsets so that no text is lost.

BERT's pretraining data is "one sentence per line" (Devlin et al., 2019, §A.2; google-research/bert
``create_pretraining_data.py``); this turns a paragraph into those sentences. A boundary is placed after a run
of ``.``, ``!`` or ``?`` (and any closing quotes or brackets right after it) that is followed by whitespace and
then, past any opening quotes or brackets, a character that starts a sentence: a digit, an uppercase or
titlecase letter, or a letter of a script without case. It is not a boundary when

- the run is an ellipsis (``...`` or ``…``), which mostly continues a sentence;
- a single ``.`` ends a known abbreviation: a title (``Mr.``, ``Dr.``, ``St.``, ``Gen.`` ...), a month
  (``Jan.`` ...), a Latin or reference word (``e.g.``, ``i.e.``, ``cf.``, ``vs.``, ``et al.`` ...), or one
  used only before a number (``No. 5``, ``p. 12``, ``c. 1900``, ``Fig. 3``);
- a single ``.`` ends an initial (``J. R. R. Tolkien``) or a dotted acronym (``U.S.``, ``a.m.``), unless the
  next word is a common sentence opener (``The``, ``He``, ``In`` ...), so "World War I. The war" splits.

Decimals (``3.5``) and dotted names (``example.com``) have no whitespace after the point and never split.
Not handled: sentence ends without whitespace after them (CJK ``。``), and a sentence that ends in an
abbreviation and is followed by a capitalised word that is not an opener (the sentence then runs on).
Like NLTK's Punkt, which it follows in spirit, it prefers a missed boundary to a wrong one.
"""

from __future__ import annotations

import re

# A run of sentence-final punctuation, closing quotes/brackets after it, and the whitespace that follows.
_END = re.compile(r"[.!?…]+[\"'”’»)\]}]*\s+")
_OPENERS = "\"'“‘«([{"
_DOTTED = re.compile(r"(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}")

ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr Prof Sr Jr St Mt Ft Rev Gen Col Lt Sgt Capt Cmdr Adm Gov Sen Rep Hon Pres Fr Messrs Mme Mlle "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "Bros Ave Dept Univ vs Vs v cf Cf ca approx al esp viz e.g E.g i.e I.e".split()
)
"""Words that, followed by ``.``, do not end a sentence (matched case-sensitively, without the period)."""

NUMBER_ABBREVIATIONS = frozenset("No no Nos Nr Vol vol Vols pp p Fig fig Figs Art Ch ch Sec sec Op op c".split())
"""Words that, followed by ``.``, do not end a sentence when a number comes next (``No. 5``, ``c. 1900``)."""

SENTENCE_OPENERS = frozenset(
    "The A An He She It They We I You His Her Its Their Our This That These Those There Here In On At By For "
    "From As After Before During When While Since Although Though However But And Also Despite Following "
    "Today Many Some Most One Two If".split()
)
"""Capitalised words after which an initial or dotted acronym is taken to end its sentence."""


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of the sentences of ``text``, in order, none empty.

    Sentences never start or end with whitespace; the whitespace between them (and around the text) is all
    that the spans leave out, so ``" ".join(text[a:b] for a, b in spans)`` equals ``text`` modulo whitespace.
    """
    start = _skip_space(text, 0)
    spans: list[tuple[int, int]] = []
    for m in _END.finditer(text):
        nxt = m.end()
        if nxt >= len(text) or not _is_boundary(text, m, nxt):
            continue
        end = m.end() - len(m.group()) + len(m.group().rstrip())
        if end > start:
            spans.append((start, end))
        start = nxt
    end = len(text.rstrip())
    if end > start:
        spans.append((start, end))
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (see :func:`sentence_spans`) as strings."""
    return [text[a:b] for a, b in sentence_spans(text)]


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _is_boundary(text: str, m: re.Match, nxt: int) -> bool:
    """Whether the punctuation run ``m``, followed by the sentence start at ``nxt``, ends a sentence."""
    i = nxt
    while i < len(text) and text[i] in _OPENERS:
        i += 1
    if i >= len(text):
        return False
    c = text[i]
    if not (c.isdigit() or (c.isalpha() and not c.islower())):
        return False
    punct = m.group().rstrip()
    run = punct.rstrip("\"'”’»)]}")
    if "…" in run or ".." in run:
        return False
    if run != ".":
        return True
    word = _word_before(text, m.start())
    if word in ABBREVIATIONS or (c.isdigit() and word in NUMBER_ABBREVIATIONS):
        return False
    if (len(word) == 1 and word.isupper()) or _DOTTED.fullmatch(word):
        return _next_word(text, i) in SENTENCE_OPENERS
    return True


def _word_before(text: str, end: int) -> str:
    """The non-whitespace run ending at ``end``, without leading opening quotes or brackets."""
    i = end
    while i > 0 and not text[i - 1].isspace():
        i -= 1
    return text[i:end].lstrip(_OPENERS)


def _next_word(text: str, i: int) -> str:
    j = i
    while j < len(text) and text[j].isalpha():
        j += 1
    return text[i:j]
