"""Tabular task files (records with named fields): TSV, CSV and JSON lines, and the columns a task needs.

Formats, by the file name in any case (``.gz`` is read through):
- ``.tsv`` (and any other name): a header row, tab-separated, no quoting (GLUE's processors), as
  :func:`bertkit.data.tasks.tsv.read_tsv`. One layout without a header is recognised: CoLA's four columns
  (source, label, author mark, sentence): a first row that names none of the known text columns, has four
  fields and an integer in the second.
- ``.csv``: a header row, RFC 4180 quoting (Python's ``csv``), e.g. IMDB or SWAG.
- ``.jsonl`` / ``.json``: one JSON object per line.
- ``.txt``: plain text, one record (field ``text``) per line, blank lines included (so that predictions line up
  with the input's lines).

Column names are read without surrounding spaces (``text, label`` names ``label``). Columns are found by common
names (:data:`TEXT_COLUMNS`, :data:`LABEL_COLUMNS`), or named by the user.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bertkit.data.tasks.tsv import read_tsv
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines

# Text columns by common name: pairs first (the first pair whose both names are present wins), then singles.
TEXT_PAIRS = (("sentence1", "sentence2"), ("premise", "hypothesis"), ("sentence_A", "sentence_B"),
              ("#1 String", "#2 String"), ("question1", "question2"), ("question", "sentence"), ("text_a", "text_b"))
TEXT_SINGLES = ("sentence", "text", "review", "question", "content", "document")
TEXT_NAMES = frozenset(TEXT_SINGLES) | {n for pair in TEXT_PAIRS for n in pair}
# Label columns by common name, for classes and for scores (SICK has both kinds: entailment_label and
# relatedness_score).
LABEL_COLUMNS = ("label", "labels", "Quality", "gold_label", "entailment_label", "sentiment", "class", "target", "y")
SCORE_COLUMNS = ("score", "relatedness_score", "similarity", "label", "labels", "target", "y")
COLA_COLUMNS = ("source", "label", "author_mark", "sentence")


@dataclass
class Record:
    """One row: its fields by column name, and where it came from (line number for messages)."""

    fields: dict[str, Any]
    line: int


@dataclass
class Records:
    path: Path
    columns: list[str]
    rows: list[Record]
    plain: bool = False  # plain text: one ``text`` per line, whatever columns a model was trained with

    def where(self, row: Record) -> str:
        return f"{self.path}: line {row.line}"


def read_records(path: str | os.PathLike, limit: int | None = None) -> Records:
    """Every record of a TSV/CSV/JSONL file (the first ``limit`` when given), fields as strings (JSON: as
    parsed). A ragged row, a missing header, bad JSON: BertkitError naming the file and line."""
    p = Path(path)
    name = p.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".json")):
        return _read_jsonl(p, limit)
    if name.endswith(".csv"):
        return _read_csv(p, limit)
    if name.endswith(".txt"):
        return _read_text(p, limit)
    return _read_tsv(p, limit)


def is_table(path: str | os.PathLike) -> bool:
    """Whether the name says TSV, CSV or JSON lines (any case, ``.gz`` or not)."""
    return Path(path).name.lower().removesuffix(".gz").endswith((".tsv", ".csv", ".jsonl", ".json"))


def read_plain_text(path: str | os.PathLike, limit: int | None = None) -> Records:
    """A file of plain text whatever its name: one ``text`` record per line (see the module docstring)."""
    return _read_text(Path(path), limit)


def _read_text(p: Path, limit: int | None) -> Records:
    """Plain text: every line is one record with a ``text`` field (a blank line too: its record is the empty
    text, so that records and lines correspond)."""
    rows = []
    for lineno, line in enumerate(read_lines(p), start=1):
        rows.append(Record({"text": line}, lineno))
        if limit is not None and len(rows) >= limit:
            break
    return Records(p, ["text"], rows, plain=True)


def _read_tsv(p: Path, limit: int | None) -> Records:
    first = next(iter(read_lines(p)), None)
    if first is None:
        raise BertkitError(f"{p}: empty file, expected a header row")
    fields = [f.strip() for f in first.split("\t")]
    known = TEXT_NAMES | set(LABEL_COLUMNS) | set(SCORE_COLUMNS)
    if len(fields) == 4 and not known & set(fields) and fields[1].strip().lstrip("-").isdigit():
        return _read_headerless(p, COLA_COLUMNS, limit)
    table = read_tsv(p)
    table.header = [h.strip() for h in table.header]
    rows, line = [], 1
    # read_tsv skips blank lines; recount lines for messages
    numbers = [i for i, ln in enumerate(read_lines(p), start=1) if ln][1:]
    for row, line in zip(table.rows, numbers):
        rows.append(Record(dict(zip(table.header, row)), line))
        if limit is not None and len(rows) >= limit:
            break
    return Records(p, table.header, rows)


def _read_headerless(p: Path, columns: tuple[str, ...], limit: int | None) -> Records:
    rows = []
    for lineno, line in enumerate(read_lines(p), start=1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise BertkitError(f"{p}: line {lineno} has {len(fields)} fields, expected {len(columns)} "
                               f"({', '.join(columns)}: CoLA's layout without a header)")
        rows.append(Record(dict(zip(columns, fields)), lineno))
        if limit is not None and len(rows) >= limit:
            break
    return Records(p, list(columns), rows)


def _read_csv(p: Path, limit: int | None) -> Records:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a long review is one field (the default stops at 128 KiB)
    reader = csv.reader(read_lines(p, keep_ends=True))
    try:
        header = next(reader, None)
        if header is None:
            raise BertkitError(f"{p}: empty file, expected a header row")
        header = [h.strip() for h in header]
        rows = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise BertkitError(f"{p}: line {reader.line_num} has {len(row)} fields, the header has {len(header)}")
            rows.append(Record(dict(zip(header, row)), reader.line_num))
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as e:
        raise BertkitError(f"{p}: line {reader.line_num}: malformed CSV ({e})") from None
    return Records(p, header, rows)


def _read_jsonl(p: Path, limit: int | None) -> Records:
    rows, columns = [], {}
    for lineno, line in enumerate(read_lines(p), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise BertkitError(f"{p}: line {lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise BertkitError(f"{p}: line {lineno}: expected a JSON object, got {type(obj).__name__}")
        columns.update(dict.fromkeys(obj))
        rows.append(Record(obj, lineno))
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise BertkitError(f"{p}: no records")
    return Records(p, list(columns), rows)


def text_columns(records: Records, given: list[str] | None = None) -> list[str]:
    """The one or two text columns: ``given`` (checked), else the first common pair, else a common single;
    a plain text's one column whatever is given."""
    if records.plain:
        return ["text"]
    if given:
        missing = [c for c in given if c not in records.columns]
        if missing:
            raise BertkitError(f"{records.path}: no column {', '.join(map(repr, missing))} "
                               f"(columns: {', '.join(records.columns)})")
        return list(given)
    for a, b in TEXT_PAIRS:
        if a in records.columns and b in records.columns:
            return [a, b]
    for name in TEXT_SINGLES:
        if name in records.columns:
            return [name]
    hint = " (for plain text, one text per line, name the file .txt)" if len(records.columns) == 1 else ""
    raise BertkitError(f"{records.path}: no text column found among {', '.join(records.columns)}; "
                       f"name it with --text-columns A[,B]{hint}")


def label_column(records: Records, given: str | None = None, *, scores: bool = False) -> str:
    """The label column: ``given`` (checked), else the first of :data:`LABEL_COLUMNS` (``scores``:
    :data:`SCORE_COLUMNS`) present."""
    if given:
        if given not in records.columns:
            raise BertkitError(f"{records.path}: no column {given!r} (columns: {', '.join(records.columns)})")
        return given
    for name in SCORE_COLUMNS if scores else LABEL_COLUMNS:
        if name in records.columns:
            return name
    raise BertkitError(f"{records.path}: no label column found among {', '.join(records.columns)}; "
                       "name it with --label-column NAME")


def field(records: Records, row: Record, column: str, kind: type = str) -> Any:
    """``row[column]`` as ``kind`` (str, or a list for JSON), with a message naming file, line and column."""
    value = row.fields.get(column)
    if value is None:
        raise BertkitError(f"{records.where(row)}: missing {column!r}")
    if kind is str and not isinstance(value, str):
        value = str(value)
    if not isinstance(value, kind):
        raise BertkitError(f"{records.where(row)}: {column!r} should be a {kind.__name__}, got {type(value).__name__}")
    return value
