"""Write a 2-D ``.npy`` array row block by row block, so memory is bounded by the block, not the file.

The array goes to a temporary sibling (a memory-mapped ``.npy``) that is renamed into place only when every
row has been written; an error or interrupt leaves no output behind.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from bertkit.utils.io import atomic_path


class NpyRows:
    """Rows of a (rows, cols) array on disk; assign blocks with ``put(start_or_indices, block)``."""

    def __init__(self, mm: np.memmap):
        self._mm = mm
        self._filled = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return self._mm.shape

    def put(self, rows: int | np.ndarray, block: np.ndarray) -> None:
        """Write ``block`` (k, cols) at row ``rows`` (a start index) or at the row indices ``rows`` (k,)."""
        if isinstance(rows, (int, np.integer)):
            self._mm[rows : rows + len(block)] = block
        else:
            self._mm[np.asarray(rows)] = block
        self._filled += len(block)


@contextlib.contextmanager
def npy_rows(path: str | os.PathLike, rows: int, cols: int, dtype=np.float32) -> Iterator[NpyRows]:
    """Context manager: a writable (rows, cols) ``.npy`` at ``path``, in place only if the block succeeds."""
    with atomic_path(Path(path)) as tmp:
        mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=(rows, cols))
        writer = NpyRows(mm)
        yield writer
        if writer._filled != rows:
            raise RuntimeError(f"{path}: wrote {writer._filled} of {rows} rows")
        mm.flush()
        del mm
