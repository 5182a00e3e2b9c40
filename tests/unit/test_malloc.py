"""utils/malloc.py: while training, a large buffer freed and allocated again reuses its pages (no new page
faults), and afterwards glibc goes back to returning them."""

import resource
import sys

import numpy as np
import pytest

from bertkit.utils.malloc import reuse_freed_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)")

_BYTES = 256 << 20  # 256 MiB: far above glibc's 32 MiB mmap ceiling, 65,536 pages of 4 KiB


def _faults_of_a_fresh_buffer() -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.empty(_BYTES, dtype=np.uint8)
    a.fill(1)  # touch every page
    del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


# Counts are compared with each other, not with the page count: with transparent huge pages set to "always"
# a fresh mapping faults once per 2 MiB instead of once per 4 KiB.
def test_freed_pages_are_reused_while_enabled_and_returned_after():
    outside = _faults_of_a_fresh_buffer()  # glibc's default: every large buffer is a new mapping
    assert outside > 0
    with reuse_freed_memory() as active:
        assert active
        _faults_of_a_fresh_buffer()  # grows the heap once
        inside = _faults_of_a_fresh_buffer()
    after = _faults_of_a_fresh_buffer()  # steady state again: large buffers are mapped afresh
    assert inside * 10 < outside, (inside, outside)
    assert after * 2 > outside, (after, outside)


def test_disabled_does_nothing():
    outside = _faults_of_a_fresh_buffer()
    with reuse_freed_memory(enabled=False) as active:
        assert not active
        _faults_of_a_fresh_buffer()
        inside = _faults_of_a_fresh_buffer()
    assert inside * 2 > outside, (inside, outside)


def test_nested_blocks_keep_reusing_until_the_outermost_ends():
    outside = _faults_of_a_fresh_buffer()
    with reuse_freed_memory():
        with reuse_freed_memory() as inner:  # an evaluation inside training, an embedding inside another's
            assert inner
            _faults_of_a_fresh_buffer()
        still = _faults_of_a_fresh_buffer()  # the inner block's end must not restore glibc's defaults
    after = _faults_of_a_fresh_buffer()
    assert still * 10 < outside, (still, outside)
    assert after * 2 > outside, (after, outside)


def test_a_disabled_outer_block_keeps_the_defaults_inside():
    """train.reuse_freed_memory=false around a fine-tuning run whose evaluation opens an enabled block: the
    outermost block decides, so glibc's defaults stay (and nothing is left changed afterwards)."""
    outside = _faults_of_a_fresh_buffer()
    with reuse_freed_memory(enabled=False):
        with reuse_freed_memory() as inner:
            assert not inner
            _faults_of_a_fresh_buffer()
            inside = _faults_of_a_fresh_buffer()
    after = _faults_of_a_fresh_buffer()
    assert inside * 2 > outside, (inside, outside)
    assert after * 2 > outside, (after, outside)
