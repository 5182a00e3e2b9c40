"""File helpers: transparent ``.gz`` reading, UTF-8 errors that name the line, atomic writes.

Every reader in bertkit goes through :func:`open_text` / :func:`read_lines`, so ``.gz`` works everywhere.
Every writer goes through :func:`atomic_path` / :func:`atomic_dir`, so no command leaves a half-written
output behind: the data goes to a temporary sibling that is renamed into place only on success.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator

from bertkit.utils.errors import BertkitError


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open a UTF-8 text file for reading, gunzipping it if its name ends in ``.gz``.

    Raises BertkitError for a missing path or a directory.
    """
    p = Path(path)
    if not p.exists():
        raise BertkitError(f"{p}: no such file")
    if p.is_dir():
        raise BertkitError(f"{p}: is a directory, expected a file")
    raw = gzip.open(p, "rb") if p.name.endswith(".gz") else open(p, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")


def read_lines(path: str | os.PathLike, *, keep_ends: bool = False) -> Iterator[str]:
    """Yield the lines of a UTF-8 (optionally gzipped) text file, without line ends unless asked.

    Only ``\\n`` (and a ``\\r\\n`` pair) end a line, as in the files people actually write; other Unicode
    line separators stay inside the line. A byte sequence that is not UTF-8 raises BertkitError naming the
    file and the line number.
    """
    p = Path(path)
    f = open_text(p)
    try:
        with f:
            yield from decode_lines(f.buffer, str(p), keep_ends=keep_ends)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise BertkitError(f"{p}: cannot read: {e}") from None


def decode_lines(raw: IO[bytes], name: str, *, keep_ends: bool = False) -> Iterator[str]:
    """Decode a binary stream line by line as UTF-8 (a leading BOM dropped); errors name ``name`` and the line."""
    for lineno, data in enumerate(raw, start=1):
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BertkitError(f"{name}: line {lineno} is not valid UTF-8 ({e.reason} at byte {e.start})") from None
        if lineno == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if not keep_ends and line.endswith("\n"):
            line = line[:-2] if line.endswith("\r\n") else line[:-1]
        yield line


def _tmp_sibling(path: Path, suffix: str = "") -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds, else delete it.

    The temporary name keeps the final suffix (``x.npy`` -> ``.x.npy.XXXX.npy.tmp``) so that writers which
    look at the suffix still behave.
    """
    final = Path(path)
    if final.parent and not final.parent.exists():
        raise BertkitError(f"{final.parent}: output folder does not exist")
    if final.is_dir():
        raise BertkitError(f"{final}: is a folder; name the output file")
    tmp = _tmp_sibling(final, final.suffix)
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary directory beside ``path``; on success it replaces ``path`` as a whole.

    An existing directory at ``path`` is moved aside and removed only after the new one is in place.
    """
    final = Path(path)
    parent = final.parent if str(final.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=parent))
            os.replace(final, old / "x")
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
