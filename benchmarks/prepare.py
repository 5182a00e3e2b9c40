"""``bertkit prepare`` throughput and memory: the whole Wikipedia set into a token store, with 1 and 2 workers.

Each run is a fresh subprocess that calls ``bertkit.data.prepare.prepare`` into an empty temporary folder
(progress bar off), so nothing is cached between runs but the OS's page cache (a first, untimed pass warms
it: the figures are for CPU work, not disk). Reported per run: MB/s of raw (uncompressed) text over the time
``prepare`` itself measures (reading, splitting, tokenizing, writing, hashing; not interpreter start-up),
the wall time of the whole subprocess, its CPU time (user + system, workers included: MB per CPU second is
the figure that does not depend on how busy a shared machine is), and peak memory: the main process's ``VmHWM`` (read in it at the
end; not ``ru_maxrss``, which Linux carries across ``exec`` from the forking parent), the largest worker's
RSS and the peak of the summed RSS of the whole process tree, both sampled from ``/proc`` every 50 ms. The stores of all runs must be identical (the sha256 of
their files in the manifests), else the script fails.

Usage: python benchmarks/prepare.py [--data DIR] [--vocab DIR] [--workers 1,2] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bertkit.utils.paths import shared_data_dir
from common import machine  # (benchmarks/common.py, beside this script)

CHILD = r"""
import json, sys
from bertkit.data.prepare import prepare
r = prepare([sys.argv[1]], sys.argv[2], sys.argv[3], workers=int(sys.argv[4]))
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
m = json.load(open(sys.argv[3] + "/manifest.json"))
print(json.dumps({"seconds": r.seconds, "raw_bytes": r.raw_bytes, "documents": r.num_documents,
                  "sentences": r.num_sentences, "tokens": r.num_tokens, "main_hwm_mb": hwm / 1024,
                  "files": m["files"], "dtype": m["dtype"]}))
"""


def _tree_rss_kb(root: int) -> dict[int, int]:
    """VmRSS (kB) of ``root`` and of each of its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    rss, todo = {}, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[pid] = int(line.split()[1])
        except OSError:
            pass
    return rss


def run_once(data: Path, vocab: Path, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bertkit-prepare-bench-") as tmp:
        out = Path(tmp) / "store"
        t0 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data), str(vocab), str(out), str(workers)],
                                stdout=subprocess.PIPE, text=True)
        peak = worker_peak = 0
        while proc.poll() is None:
            rss = _tree_rss_kb(proc.pid)
            peak = max(peak, sum(rss.values()))
            worker_peak = max([worker_peak, *(v for pid, v in rss.items() if pid != proc.pid)])
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run and its pool workers (joined, so waited for)
        cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        stdout = proc.stdout.read()
        if proc.returncode != 0:
            raise SystemExit(f"prepare with {workers} workers exited {proc.returncode}")
        rec = json.loads(stdout.strip().splitlines()[-1])
    rec.update(workers=workers, process_wall_s=wall, tree_peak_rss_mb=peak / 1024, worker_peak_rss_mb=worker_peak / 1024,
               mb_per_s=rec["raw_bytes"] / 1e6 / rec["seconds"], cpu_s=cpu, mb_per_cpu_s=rec["raw_bytes"] / 1e6 / cpu)
    return rec


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=shared_data_dir() / "wikipedia_en")
    p.add_argument("--vocab", type=Path, default=shared_data_dir() / "vocab" / "bert-base-uncased")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    args = p.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]

    # warm the page cache (inputs and vocab) without timing
    for f in sorted(args.data.rglob("*")):
        if f.is_file():
            f.read_bytes()
    results = {"machine": machine(), "data": str(args.data), "vocab": args.vocab.name, "runs": []}
    print(f"prepare {args.data} with {args.vocab.name}; load average {os.getloadavg()[0]:.2f}", flush=True)
    for w in counts:
        r = run_once(args.data, args.vocab, w)
        results["runs"].append(r)
        print(f"  workers {w}: {r['raw_bytes'] / 1e6:.1f} MB raw in {r['seconds']:.1f} s = {r['mb_per_s']:.2f} MB/s "
              f"(process {r['process_wall_s']:.1f} s, "
              f"{r['cpu_s']:.1f} CPU s = {r['mb_per_cpu_s']:.2f} MB per CPU s); {r['documents']:,} documents, {r['sentences']:,} sentences, "
              f"{r['tokens']:,} tokens ({r['dtype']}); peak RSS main {r['main_hwm_mb']:.0f} MB, largest worker "
              f"{r['worker_peak_rss_mb']:.0f} MB, process tree {r['tree_peak_rss_mb']:.0f} MB", flush=True)
    first = results["runs"][0]["files"]
    same = all(r["files"] == first for r in results["runs"])
    results["identical_stores"] = same
    if len(counts) > 1:
        base = results["runs"][0]["mb_per_s"]
        print("  speed-up: " + ", ".join(f"{r['workers']} workers {r['mb_per_s'] / base:.2f}x"
                                          for r in results["runs"][1:]))
    print(f"  stores identical across runs: {same}; load average after {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
