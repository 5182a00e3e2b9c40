"""Training checkpoints: ``OUTPUT/checkpoints/step-<N>/`` = a Hugging Face directory + the training state.

The state (``trainer_state.pt``) holds what an exact resume needs: optimizer and scheduler state, the step,
every RNG state (torch CPU and CUDA, numpy's and Python's global generators) and the data position. A
checkpoint is written into a temporary directory and renamed into place in one step, so a crash or a kill
during the write leaves the previous checkpoints as they were and no ``step-<N>`` that is not complete.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bertkit.convert.hf import convert_from_hf, read_state_dict, unwrap_model, write_pretrained
from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_dir

STATE_NAME = "trainer_state.pt"
RUN_CONFIG_NAME = "run_config.yaml"
CHECKPOINTS = "checkpoints"
_STEP_DIR = re.compile(r"^step-(\d+)$")
_TORN = re.compile(r"^\.step-\d+\..*\.(tmp|old)$")  # left by a write that was killed (see utils.io.atomic_dir)


def rng_state() -> dict[str, Any]:
    """Every global generator's state, in types ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": list(random.getstate()[1]) + [random.getstate()[0], random.getstate()[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))
    *internal, version, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(root: Path, step: int, model: nn.Module, state: dict[str, Any], *, tokenizer: Any = None,
                    run_config: str | None = None, keep: int | None = None) -> Path:
    """Write ``root/step-<step>/`` atomically (weights as a HF directory, ``state`` as trainer_state.pt, the
    run config as YAML text) and keep only the newest ``keep`` checkpoints. Returns the directory."""
    final = root / f"step-{step}"
    if root.is_dir():  # one writer (rank 0): any temporary directory here is from a killed write
        for p in root.iterdir():
            if _TORN.match(p.name):
                shutil.rmtree(p, ignore_errors=True)
    with atomic_dir(final) as tmp:
        write_pretrained(model, tmp, tokenizer)
        torch.save(state, tmp / STATE_NAME)
        if run_config is not None:
            (tmp / RUN_CONFIG_NAME).write_text(run_config, encoding="utf-8")
    if keep is not None:
        for _, old in list_checkpoints(root)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``root``, oldest first (temporary directories of an interrupted write are
    not ``step-<N>`` and are never listed)."""
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and (p / STATE_NAME).is_file() and (p / "config.json").is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(root: Path) -> Path | None:
    found = list_checkpoints(root)
    return found[-1][1] if found else None


def load_state(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path / STATE_NAME, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as e:
        raise BertkitError(f"{path / STATE_NAME}: cannot read training state ({str(e).splitlines()[0]})") from None


def load_weights(model: nn.Module, path: Path) -> None:
    """Load a checkpoint directory's weights into ``model`` in place (the same tensors, so an optimizer built
    on them stays valid)."""
    inner = unwrap_model(model)
    state, name = read_state_dict(path)
    sd, _ = convert_from_hf(inner, state, source=str(path / name))
    with torch.no_grad():
        own = inner.state_dict()
        for k, v in sd.items():
            own[k].copy_(v)
