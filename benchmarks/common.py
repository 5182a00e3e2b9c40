"""What every benchmark script shares: timing (best of N) and the machine/versions record for BENCHMARKS.md."""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from pathlib import Path


def best_of(repeats: int, setup, run):
    """(best seconds, last result) of ``run(setup())``, timing only ``run``."""
    best, result = float("inf"), None
    for _ in range(repeats):
        arg = setup()
        t0 = time.perf_counter()
        result = run(arg)
        best = min(best, time.perf_counter() - t0)
    return best, result


def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import tokenizers
    import transformers

    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch_version,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def write_json(path: Path | None, results: dict) -> None:
    """Write a benchmark's results as indented JSON (folders made as needed); nothing when ``path`` is None."""
    if path is None:
        return
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
