"""Running the ``bertkit`` command as a user does, for the smoke tests: a subprocess, and the check that a bad
input is answered with one line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def bertkit(*args, check: bool = True, timeout: int = 600, env: dict | None = None,
            launcher: list[str] | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m bertkit.cli ARGS`` (or ``launcher + [-m bertkit.cli, ARGS]``, e.g. torchrun), with
    ``stdin`` as its standard input (none by default)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **(env or {}))
    cmd = (launcher or [sys.executable]) + ["-m", "bertkit.cli", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout,
                          **({"stdin": subprocess.DEVNULL} if stdin is None else {"input": stdin}))
    proc.stdout, proc.stderr = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise AssertionError(f"bertkit {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode in (1, 2), (proc.returncode, proc.stdout, proc.stderr)  # 1 bad input, 2 usage
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, f"expected one line on stderr, got:\n{err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")} if path.exists() else set()
