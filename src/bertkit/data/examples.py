"""Task examples, one type per input shape, and their readers from task files of every supported format.

Text examples (classification, regression) and multiple-choice examples come from tabular files
(:mod:`bertkit.data.tasks.table`: TSV, CSV, JSONL, plain text); word examples (NER) from CoNLL column files or
plain text; QA examples are :class:`bertkit.data.tasks.squad.SquadExample`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bertkit.data.tasks.conll import read_conll
from bertkit.data.tasks.table import (Records, field as get_field, is_table, label_column, read_plain_text,
                                      read_records, text_columns)
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines


@dataclass
class TextExample:
    """A classification / regression input: one text or a pair, a label (str, float or None), its origin."""

    text: str
    pair: str | None = None
    label: Any = None
    where: str = ""


@dataclass
class WordsExample:
    """An NER input: words, their tags (None when unknown), and each word's character span in ``text``."""

    words: list[str]
    tags: list[str] | None = None
    text: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)
    where: str = ""

    @classmethod
    def from_words(cls, words: list[str], tags: list[str] | None = None, where: str = "") -> "WordsExample":
        """Words joined by single spaces (the text that NER character offsets refer to)."""
        spans, pos = [], 0
        for w in words:
            spans.append((pos, pos + len(w)))
            pos += len(w) + 1
        return cls(words, tags, " ".join(words), spans, where)

    @classmethod
    def from_text(cls, text: str, where: str = "") -> "WordsExample":
        """A plain text split on whitespace; spans point into ``text`` as given."""
        found = [(m.group(), m.span()) for m in re.finditer(r"\S+", text)]
        return cls([w for w, _ in found], None, text, [s for _, s in found], where)


@dataclass
class ChoiceExample:
    """A multiple-choice input: a context, its candidates, the index of the right one (or None)."""

    context: str
    endings: list[str]
    label: int | None = None
    where: str = ""



def read_text_examples(path, *, columns: list[str] | None = None, label: str | None = None, scores: bool = False,
                       limit: int | None = None, need_labels: bool = True) -> list[TextExample]:
    """Texts (or pairs) and labels of a tabular file; columns found by common names unless given. Class labels
    are strings (see :func:`label_text`); with ``scores`` (regression) they are finite floats, checked here.
    Without ``need_labels`` (prediction) labels are not read: every label is None, and a file without the
    label column, or with any value in it, is fine."""
    records = read_records(path, limit)
    cols = text_columns(records, columns)
    lab = label_column(records, label, scores=scores) if need_labels else None
    out = []
    for row in records.rows:
        text = get_field(records, row, cols[0])
        pair = get_field(records, row, cols[1]) if len(cols) > 1 else None
        y = label_text(get_field(records, row, lab, object)) if lab is not None else None
        if y == "":
            raise BertkitError(f"{records.where(row)}: empty label in column {lab!r}")
        if scores and y is not None:
            y = score_value(y, records.where(row), lab)
        out.append(TextExample(text, pair, y, records.where(row)))
    return out


def score_value(value: Any, where: str, column: str = "label") -> float:
    """A regression label as a finite float (a NaN or an infinity would turn the loss, and Spearman, to
    nonsense); otherwise a BertkitError naming ``where`` and ``column``."""
    try:
        y = float(value)
    except (TypeError, ValueError):
        raise BertkitError(f"{where}: {column}={value!r} is not a number (regression)") from None
    if not math.isfinite(y):
        raise BertkitError(f"{where}: {column}={value!r} is not a finite number (regression)")
    return y


def label_text(value: Any) -> str:
    """A class label as the string it is known by: surrounding spaces dropped (``"0 "`` is ``"0"``), and a JSON
    number written as an integer when it is one (``1`` and ``1.0`` are ``"1"``; JSON ``true`` is ``"True"``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def label_key(label: str) -> str:
    """What two spellings of one class label share, to match a file's labels to a model's saved ones (a model
    fine-tuned before :func:`label_text` may hold ``"1.0"`` or ``"1 "``): stripped, integral numbers as
    integers, case folded for ``True``/``False``."""
    text = str(label).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower() if text.lower() in ("true", "false") else text
    return str(int(number)) if number.is_integer() else text


def read_words_examples(path, *, limit: int | None = None, columns: list[str] | None = None) -> list[WordsExample]:
    """NER sentences: a CoNLL column file (word first, tag last, a blank line between sentences; or the word
    column alone, text to tag), or plain text (one sentence per line, words split on whitespace, no tags), told
    apart by the content (see :func:`_looks_like_conll`), not by the file name.

    Tags without a scheme prefix (the IO scheme: ``PER``, ``LOC``) are read as ``I-PER``, ``I-LOC``: a run of
    one type is then one entity, as in IOB1 (conlleval and seqeval would read ``PER`` as the prefix ``P``/``PER``
    of an untyped chunk and find no entities); BILOU's ``L-``/``U-`` are read as IOBES's ``E-``/``S-``. A table
    (TSV/CSV/JSONL) gives one sentence per record from ``columns[0]`` (or a text column by common name)."""
    p = Path(path)
    if not _looks_like_conll(p):
        if is_table(p):  # a TSV/CSV/JSONL: its text column, one sentence per record
            records = read_records(p, limit)
            col = text_columns(records, columns)[0]
            return [WordsExample.from_text(get_field(records, r, col), records.where(r)) for r in records.rows]
        records = read_plain_text(p, limit)
        return [WordsExample.from_text(r.fields["text"], records.where(r)) for r in records.rows]
    sentences = read_conll(p)[:limit] if limit else read_conll(p)
    return [WordsExample.from_words(words, tags and [iob_tag(t) for t in tags], f"{p}: sentence {i + 1}")
            for i, (words, tags) in enumerate(sentences)]


CONLL_SUFFIXES = (".conll", ".conll2003", ".iob", ".iob2", ".bio", ".bioes")
_TAG = re.compile(r"O|[BIESLU][-_].+")
_PREFIXED = re.compile(r"[BIESLU][-_].")


def iob_tag(tag: str) -> str:
    """``tag`` in a scheme the entity rules read (:func:`bertkit.tasks.metrics.entity_spans`): a bare IO tag
    (``PER``) becomes ``I-PER``, BILOU's ``L-PER``/``U-PER`` become ``E-PER``/``S-PER``; ``O`` and other prefixed
    tags (``B-PER``, ``S_LOC``, ...) are kept. Also applied to a model's saved labels, so that a model fine-tuned
    on such tags before this reading scores and predicts the same way."""
    if tag == "O":
        return tag
    if _PREFIXED.match(tag):
        return {"L": "E", "U": "S"}.get(tag[0], tag[0]) + tag[1:]
    return f"I-{tag}"


def _looks_like_conll(p: Path) -> bool:
    """A CoNLL column file: named so (:data:`CONLL_SUFFIXES`), or one whose first non-blank lines (up to 200)
    hold a ``-DOCSTART-`` line, or end in a tag-like column (``O``, ``B-PER``, ...) for at least half of them,
    or (tags of any spelling, e.g. IO's ``GENE``) nearly all have one same number of columns, two or more, with
    few distinct values in the last, or (words alone, text to tag) are all single words in two or more runs
    that blank lines divide, three words a run or more on average. Plain text fails: its lines vary in length
    and end in ordinary words, and a list of one word a line is not divided into runs of sentence length."""
    name = p.name.lower().removesuffix(".gz")
    if name.endswith(CONLL_SUFFIXES):
        return True
    if is_table(p) and not name.endswith(".tsv"):  # a .tsv may hold CoNLL columns
        return False
    seen = tagged = 0
    widths: dict[int, int] = {}
    last: set[str] = set()
    run = runs = 0  # runs of non-blank lines divided by blank ones
    for line in read_lines(p):
        cols = line.split()
        if not cols:
            run = 0
            continue
        if cols[0] == "-DOCSTART-":
            return True
        seen += 1
        runs += run == 0
        run += 1
        tagged += len(cols) >= 2 and bool(_TAG.fullmatch(cols[-1]))
        widths[len(cols)] = widths.get(len(cols), 0) + 1
        last.add(cols[-1])
        if seen >= 200:
            break
    if not seen:
        return False
    if tagged * 2 >= seen:
        return True
    width, count = max(widths.items(), key=lambda kv: kv[1])
    if width == 1 and count == seen:
        return runs >= 2 and seen >= 3 * runs
    return seen >= 3 and width >= 2 and count * 10 >= seen * 9 and len(last) <= max(2, seen // 3)


CONTEXT_KEYS = ("context", "ctx", "sent1", "question", "premise", "startphrase")
ENDINGS_KEYS = ("endings", "choices", "options", "candidates")
CHOICE_LABEL_KEYS = ("label", "answer", "gold", "labels")


def read_choice_examples(path, *, limit: int | None = None, need_labels: bool = True) -> list[ChoiceExample]:
    """Multiple choice: SWAG's CSV layout (``sent1``, ``sent2``, ``ending0..N``, ``label``; a candidate is
    ``sent2 + " " + ending``, as HF's run_swag.py) or JSON lines with a context, a list of candidates
    (``endings``/``choices``/...) and the right one's index."""
    records = read_records(path, limit)
    cols = records.columns
    endings = sorted((c for c in cols if re.fullmatch(r"ending\d+", c)), key=lambda c: int(c[6:]))
    list_key = next((k for k in ENDINGS_KEYS if k in cols), None)
    ctx_key = next((k for k in CONTEXT_KEYS if k in cols), None)
    lab_key = next((k for k in CHOICE_LABEL_KEYS if k in cols), None)
    if ctx_key is None or (not endings and list_key is None):
        raise BertkitError(f"{records.path}: expected a context ({'/'.join(CONTEXT_KEYS)}) and candidates "
                           f"(ending0..N or {'/'.join(ENDINGS_KEYS)}); columns: {', '.join(cols)}")
    if need_labels and lab_key is None:
        raise BertkitError(f"{records.path}: no label column ({'/'.join(CHOICE_LABEL_KEYS)})")
    out = []
    for row in records.rows:
        context = get_field(records, row, ctx_key)
        if endings:
            head = row.fields.get("sent2", "") if ctx_key == "sent1" else ""
            cands = [f"{head} {get_field(records, row, c)}".strip() if head else get_field(records, row, c)
                     for c in endings]
        else:
            cands = get_field(records, row, list_key, list)
            if not cands or not all(isinstance(c, str) for c in cands):
                raise BertkitError(f"{records.where(row)}: {list_key!r} should be a non-empty list of strings")
        y = None
        if lab_key is not None and row.fields.get(lab_key) not in (None, ""):
            y = _choice_index(records, row, lab_key, len(cands))
        elif need_labels:
            raise BertkitError(f"{records.where(row)}: missing {lab_key!r}")
        out.append(ChoiceExample(context, list(cands), y, records.where(row)))
    return out


def _choice_index(records: Records, row, key: str, n: int) -> int:
    value = row.fields[key]
    try:
        k = int(value)
    except (TypeError, ValueError):
        raise BertkitError(f"{records.where(row)}: {key}={value!r} is not a candidate index") from None
    if not 0 <= k < n:
        raise BertkitError(f"{records.where(row)}: {key}={k} but there are {n} candidates")
    return k
