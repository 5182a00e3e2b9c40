"""utils: gz-transparent reading with line-numbered UTF-8 errors, atomic files and folders, streamed .npy."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from bertkit.utils.errors import BertkitError
from bertkit.utils.io import atomic_dir, atomic_path, read_lines
from bertkit.utils.npy import npy_rows


def test_read_lines_plain_and_gz_agree(tmp_path):
    text = "\ufefffirst\r\nsecond\u2028still second\n\nlast"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8", newline="")
    with gzip.open(tmp_path / "a.txt.gz", "wt", encoding="utf-8", newline="") as f:
        f.write(text)
    want = ["first", "second\u2028still second", "", "last"]
    assert list(read_lines(tmp_path / "a.txt")) == want
    assert list(read_lines(tmp_path / "a.txt.gz")) == want


def test_read_lines_names_the_bad_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"ok\nfine\nbad \xff here\n")
    with pytest.raises(BertkitError, match=r"bad.txt: line 3 is not valid UTF-8"):
        list(read_lines(p))


@pytest.mark.parametrize("make", ["missing", "dir"])
def test_read_lines_missing_or_dir(tmp_path, make):
    p = tmp_path / "x"
    if make == "dir":
        p.mkdir()
    with pytest.raises(BertkitError, match=str(p)):
        list(read_lines(p))


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    out = tmp_path / "out.json"
    with pytest.raises(ValueError):
        with atomic_path(out) as tmp:
            tmp.write_text("half")
            raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(out) as tmp:
        tmp.write_text("whole")
    assert out.read_text() == "whole" and list(tmp_path.iterdir()) == [out]


def test_atomic_dir_replaces_whole(tmp_path):
    d = tmp_path / "ckpt"
    d.mkdir()
    (d / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(d) as tmp:
            (tmp / "new.txt").write_text("new")
            raise RuntimeError
    assert sorted(p.name for p in d.iterdir()) == ["old.txt"]
    with atomic_dir(d) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in d.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_npy_rows_in_any_order(tmp_path):
    out = tmp_path / "e.npy"
    data = np.arange(12, dtype=np.float32).reshape(6, 2)
    with npy_rows(out, 6, 2) as w:
        w.put(np.array([5, 0, 3]), data[[5, 0, 3]])
        w.put(1, data[1:3])
        w.put(np.array([4]), data[[4]])
    np.testing.assert_array_equal(np.load(out), data)


def test_npy_rows_incomplete_leaves_nothing(tmp_path):
    out = tmp_path / "e.npy"
    with pytest.raises(RuntimeError, match="wrote 1 of 3 rows"):
        with npy_rows(out, 3, 2) as w:
            w.put(0, np.zeros((1, 2), np.float32))
    assert list(tmp_path.iterdir()) == []
