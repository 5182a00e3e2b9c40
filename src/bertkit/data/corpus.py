"""Raw text for pretraining and vocabulary training: find the files, read them as documents of paragraphs.

Two formats, told apart per file by content (the first non-blank line starts with ``<doc``), gzipped or not
(``.gz`` by name, see :func:`bertkit.utils.io.open_text`):

- plain text: one sentence or paragraph per line, a blank (whitespace-only) line between documents;
- WikiExtractor output (attardi/wikiextractor): ``<doc id=... url=... title=...>``, the title line, the
  paragraphs, ``</doc>``. The ``<doc>`` line and the title are dropped; blank lines inside a document are
  skipped, not document breaks.

A paragraph is the line as in the file without its line end (only ``\\n``/``\\r\\n`` end a line, as in
:func:`bertkit.utils.io.read_lines`); other characters, leading or trailing spaces included, stay in it.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Iterable, Iterator

from bertkit.utils.errors import BertkitError
from bertkit.utils.io import read_lines

PathLike = str | os.PathLike


def find_files(inputs: PathLike | Iterable[PathLike]) -> list[Path]:
    """The files named by ``inputs`` (files and folders), in order; folders are walked recursively, sorted.

    Hidden files and folders (name starting with ``.``) inside a folder are skipped; a file named directly
    is kept. Duplicates keep their first place. A missing path, a folder with no files, or no inputs at all
    raise BertkitError naming it.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    out: list[Path] = []
    seen: set[Path] = set()
    for inp in inputs:
        p = Path(inp)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and not _hidden(f.relative_to(p)))
            if not found:
                raise BertkitError(f"{p}: folder holds no (non-hidden) files")
        elif p.is_file():
            found = [p]
        else:
            raise BertkitError(f"{p}: no such file or folder")
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out:
        raise BertkitError("no input files given")
    return out


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def iter_documents(inputs: PathLike | Iterable[PathLike]) -> Iterator[list[str]]:
    """Every non-empty document of every file in ``inputs`` (see :func:`find_files`), as its paragraphs.

    Streams: one document is in memory at a time.
    """
    for path in find_files(inputs):
        yield from read_documents(path)


def read_documents(path: PathLike) -> Iterator[list[str]]:
    """The non-empty documents of one file (plain text or WikiExtractor, detected by content), as paragraphs."""
    for paragraphs, _ in sized_documents(path):
        if paragraphs:
            yield paragraphs


def sized_documents(path: PathLike) -> Iterator[tuple[list[str], int]]:
    """``(paragraphs, nbytes)`` for each document of one file, where ``nbytes`` counts the UTF-8 bytes of the
    lines consumed since the previous document (line ends and dropped lines included), for progress.

    Documents may be empty here (a Wikipedia article with only a title); a last ``([], n)`` carries the
    bytes after the last document. The ``nbytes`` of a file sum to its uncompressed size (less a BOM).
    """
    p = Path(path)
    lines = read_lines(p, keep_ends=True)
    head: list[str] = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    wiki = bool(head) and head[-1].lstrip().startswith("<doc")
    stream = itertools.chain(head, lines)
    yield from (_wiki_documents if wiki else _plain_documents)(stream, p)


def _strip_end(line: str) -> str:
    if line.endswith("\n"):
        return line[:-2] if line.endswith("\r\n") else line[:-1]
    return line


def _plain_documents(lines: Iterator[str], path: Path) -> Iterator[tuple[list[str], int]]:
    doc: list[str] = []
    nbytes = 0
    for line in lines:
        nbytes += len(line.encode("utf-8"))
        if line.strip():
            doc.append(_strip_end(line))
        elif doc:
            yield doc, nbytes
            doc, nbytes = [], 0
    if doc or nbytes:
        yield doc, nbytes


def _wiki_documents(lines: Iterator[str], path: Path) -> Iterator[tuple[list[str], int]]:
    doc: list[str] | None = None  # None: outside a <doc>
    title_next = False
    opened = 0
    nbytes = 0
    for lineno, line in enumerate(lines, start=1):
        nbytes += len(line.encode("utf-8"))
        text = _strip_end(line)
        if doc is None:
            if text.startswith("<doc"):
                doc, title_next, opened = [], True, lineno
            elif text.strip():
                raise BertkitError(f"{path}: line {lineno}: text outside <doc ...> ... </doc>")
        elif text.strip() == "</doc>":
            yield doc, nbytes
            doc, nbytes = None, 0
        elif text.startswith("<doc"):
            raise BertkitError(f"{path}: line {lineno}: <doc> inside the <doc> opened at line {opened}")
        elif title_next:
            title_next = False
        elif text.strip():
            doc.append(text)
    if doc is not None:
        raise BertkitError(f"{path}: ends inside the <doc> opened at line {opened} (no </doc>)")
    if nbytes:
        yield [], nbytes
