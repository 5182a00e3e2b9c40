"""CoNLL-2003-style column files: one token per line, whitespace-separated columns with the word first and
the tag last (``EU NNP B-NP B-ORG``), a blank line between sentences, ``-DOCSTART-`` lines between documents
(Tjong Kim Sang & De Meulder, 2003).
"""

from __future__ import annotations

import os
from pathlib import Path

from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines


def read_conll(path: str | os.PathLike) -> list[tuple[list[str], list[str]]]:
    """The sentences of a CoNLL file as ``(words, tags)``, both lists of one length, in file order.

    ``-DOCSTART-`` lines are dropped (they also end a sentence). Columns are split on spaces and tabs only
    (a word may hold other whitespace, e.g. U+00A0); a non-blank line with fewer than two columns raises BertkitError naming the file and line.
    """
    p = Path(path)
    out: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    for lineno, line in enumerate(read_lines(p), start=1):
        cols = [c for c in line.replace("\t", " ").split(" ") if c] if line.strip() else []
        if not cols or cols[0] == "-DOCSTART-":
            if words:
                out.append((words, tags))
                words, tags = [], []
            continue
        if len(cols) < 2:
            raise BertkitError(f"{p}: line {lineno}: expected 'word ... tag' columns, got {line!r}")
        words.append(cols[0])
        tags.append(cols[-1])
    if words:
        out.append((words, tags))
    return out
