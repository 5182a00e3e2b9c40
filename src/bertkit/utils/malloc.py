"""glibc's malloc told to keep freed memory for reuse while a model trains or runs over many batches.

By default glibc serves every allocation above 32 MiB (its dynamic threshold's ceiling) with a fresh ``mmap``
and unmaps it on free, so each large tensor of a training step (attention scores of 32 x 12 x 384 x 384 float32
are 226 MB) arrives as new pages that the kernel must fault in and zero. Those faults cost more than the
arithmetic of the ops that write them: on a 2-core Xeon the float32 softmax of such a tensor took 125 ms with
fresh pages and 37 ms with reused ones, and a MiniLM fine-tuning step of 32 x 384 tokens 9.1 s against 6.6 s
(BENCHMARKS.md, "Fine-tuning"). Inference meets the same faults while glibc's dynamic threshold is still low:
with reuse the whole process of ``bertkit embed`` on 4,000 SST-2 sentences made 115-124 thousand minor page
faults instead of 540-810 thousand and spent 0.5-0.6 s in the kernel instead of 1.7-2.4 s (BENCHMARKS.md,
"Runtime options"). This is what jemalloc or tcmalloc preloaded would do; here it is two ``mallopt`` calls for
the duration of training or of an inference pass, then glibc's steady state for a process of large chunks (mmap
threshold 32 MiB, trim threshold 64 MiB, as its dynamic rule sets them) and a ``malloc_trim``. The cost: the
process keeps its peak heap while it runs instead of returning it between steps.

Only glibc on Linux has ``mallopt``; elsewhere (macOS, musl) this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from typing import Iterator

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_INT_MAX = 2**31 - 1
_STEADY = {_M_MMAP_MAX: 65536, _M_MMAP_THRESHOLD: 32 << 20, _M_TRIM_THRESHOLD: 64 << 20}  # after training


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (glibc only)
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


_lock = threading.RLock()
_depth = 0  # blocks open now (mallopt is process-wide: the outermost block decides, sets and restores)
_set = False  # the outermost block changed glibc's settings (so its end restores them)
_active = False  # ... and glibc accepted the change


@contextlib.contextmanager
def reuse_freed_memory(enabled: bool = True) -> Iterator[bool]:
    """While the block runs, glibc serves large allocations from its heap and keeps freed memory (no mmap, no
    trimming below 2 GiB of free top); yields whether that took effect (False: not glibc, or not enabled).

    Blocks nest (an evaluation inside training): the outermost one decides, so ``enabled=False`` outside
    (``train.reuse_freed_memory=false``) keeps glibc's defaults for everything inside, and only the outermost
    block restores them when it ends."""
    global _depth, _set, _active
    libc = _glibc()
    if libc is None:
        yield False
        return
    with _lock:
        if _depth == 0:
            _set = enabled
            _active = enabled and bool(libc.mallopt(_M_MMAP_MAX, 0)) and \
                bool(libc.mallopt(_M_TRIM_THRESHOLD, _INT_MAX))
        _depth += 1
        active = _active
    try:
        yield active
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _set:
                for param, value in _STEADY.items():
                    libc.mallopt(param, value)
                libc.malloc_trim(0)
                _set = _active = False
