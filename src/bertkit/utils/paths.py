"""Where the shared data sets live: ``$BERTKIT_DATA`` if set, else ``../shared/data`` beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[3]


def shared_data_dir() -> Path:
    """The folder holding glue_sst2/, wikipedia_en/, vocab/, ... (it may not exist; callers check)."""
    env = os.environ.get("BERTKIT_DATA")
    if env:
        return Path(env)
    return _REPO_ROOT.parent / "shared" / "data"
