"""CoNLL-2003-style column files: one token per line, whitespace-separated columns with the word first and
the tag last (``EU NNP B-NP B-ORG``), a blank line between sentences, ``-DOCSTART-`` lines between documents
(Tjong Kim Sang & De Meulder, 2003). Text to tag may come the same way with the word column alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines


def read_conll(path: str | os.PathLike) -> list[tuple[list[str], list[str] | None]]:
    """The sentences of a CoNLL file as ``(words, tags)``, both lists of one length, in file order; a file of
    words alone (one column on every line: text to tag) gives ``(words, None)``.

    ``-DOCSTART-`` lines are dropped (they also end a sentence). Columns are split on spaces and tabs only
    (a word may hold other whitespace, e.g. U+00A0). A file mixing one-column lines with tagged ones raises
    BertkitError naming the file and the first one-column line.
    """
    p = Path(path)
    out: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    lone: tuple[int, str] | None = None  # the first line with a word and no tag
    tagged = False
    for lineno, line in enumerate(read_lines(p), start=1):
        cols = [c for c in line.replace("\t", " ").split(" ") if c] if line.strip() else []
        if not cols or cols[0] == "-DOCSTART-":
            if words:
                out.append((words, tags))
                words, tags = [], []
            continue
        if len(cols) < 2:
            lone = lone or (lineno, line)
        else:
            tagged = True
        if lone and tagged:
            raise BertkitError(f"{p}: line {lone[0]}: expected 'word ... tag' columns, got {lone[1]!r}")
        words.append(cols[0])
        tags.append(cols[-1])
    if words:
        out.append((words, tags))
    return [(w, None) for w, _ in out] if lone else out
