"""GLUE-style TSV: a header row, tab-separated fields, no quoting (GLUE's ``csv.reader(delimiter="\\t",
quotechar=None)`` in ``run_classifier.py``), so quotes and spaces are part of the field.

Empty lines are skipped; a row whose field count differs from the header's is an error naming the line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines


@dataclass
class Table:
    """A TSV file: its header, its rows (each ``len(header)`` strings, verbatim) and where it came from."""

    path: Path
    header: list[str]
    rows: list[list[str]]

    def columns(self, *names: str) -> list[tuple[str, ...]]:
        """The named columns of every row, as tuples in the order asked; BertkitError names a missing column."""
        missing = [n for n in names if n not in self.header]
        if missing:
            raise BertkitError(f"{self.path}: no column {', '.join(map(repr, missing))} (header: {self.header})")
        idx = [self.header.index(n) for n in names]
        return [tuple(row[i] for i in idx) for row in self.rows]


def read_tsv(path: str | os.PathLike) -> Table:
    """Read a TSV with a header row. Fields are kept verbatim (trailing spaces, quotes, ``\\r`` mid-line)."""
    p = Path(path)
    lines = read_lines(p)
    header = None
    rows: list[list[str]] = []
    for lineno, line in enumerate(lines, start=1):
        if not line:
            continue
        fields = line.split("\t")
        if header is None:
            header = fields
        elif len(fields) != len(header):
            raise BertkitError(f"{p}: line {lineno} has {len(fields)} fields, the header has {len(header)}")
        else:
            rows.append(fields)
    if header is None:
        raise BertkitError(f"{p}: empty file, expected a header row")
    return Table(p, header, rows)
