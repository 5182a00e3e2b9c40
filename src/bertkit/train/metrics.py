"""Run logs: ``train_log.jsonl`` (one JSON object per logged step), a PNG of the curves, TensorBoard events
when ``tensorboard`` is installed.

Records have ``kind`` ("train" or "eval"), ``step`` and the objective's metrics (loss, mlm_loss, ...); train
records also carry ``lr``, ``tokens_per_s`` (real, non-pad tokens) and ``epoch``. On resume the log is cut
back to the checkpoint's step, so a resumed run's log reads as if it had never stopped.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

LOG_NAME = "train_log.jsonl"
PLOT_NAME = "train_curves.png"


class JsonlLog:
    """Append-only JSON lines, flushed after each record; ``truncate_after(step)`` drops later records."""

    def __init__(self, path: Path, tensorboard_dir: Path | None = None):
        self.path = path
        self._tb = _tensorboard(tensorboard_dir) if tensorboard_dir is not None else None

    def truncate_after(self, step: int) -> None:
        if not self.path.is_file():
            return
        kept = [ln for ln in self.path.read_text(encoding="utf-8").splitlines()
                if ln.strip() and json.loads(ln).get("step", 0) <= step]
        self.path.write_text("".join(ln + "\n" for ln in kept), encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, allow_nan=True) + "\n")
        if self._tb is not None:
            for k, v in record.items():
                if isinstance(v, (int, float)) and k != "step":
                    self._tb.add_scalar(f"{record['kind']}/{k}", v, record["step"])
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def _tensorboard(path: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(str(path))


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def plot_curves(log_path: Path, out_png: Path, title: str = "") -> Path | None:
    """Loss curves (train and eval) and every ``*accuracy`` / task metric found, one panel each, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_log(log_path)
    if not records:
        return None
    skip = {"step", "kind", "lr", "tokens_per_s", "epoch", "grad_norm", "processes"}
    names = sorted({k for r in records for k, v in r.items() if k not in skip and isinstance(v, (int, float))})
    losses = [n for n in names if n.endswith("loss")]
    others = [n for n in names if n not in losses]
    panels = [("loss", losses)] + [(n, [n]) for n in others]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, (label, keys) in zip(axes[0], panels):
        for kind, style in (("train", "-"), ("eval", "o-")):
            for k in keys:
                pts = [(r["step"], r[k]) for r in records if r.get("kind") == kind and k in r
                       and isinstance(r[k], (int, float)) and math.isfinite(r[k])]
                if pts:
                    xs, ys = zip(*pts)
                    ax.plot(xs, ys, style, label=f"{kind} {k}", markersize=3, linewidth=1)
        ax.set_xlabel("step")
        ax.set_title(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    tmp = out_png.with_name(f".{out_png.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out_png)
    return out_png
