"""Freed heap goes back to the system every so many planning cycles (glibc here)."""

import ctypes.util

import numpy as np
import pytest

from vla_driving.policy import heap


def _rss_bytes() -> int:
    import psutil
    return psutil.Process().memory_info().rss


@pytest.mark.skipif(ctypes.util.find_library("c") is None, reason="no C library found")
def test_release_returns_freed_small_blocks_that_free_alone_keeps():
    """Many small arrays freed out of order leave glibc's heap holding the pages (below the
    mmap threshold), as a planner's frames do; releasing gives them back."""
    blocks = [np.ones(8_000, np.uint8) for _ in range(20_000)]        # ~160 MB of small blocks
    keep = blocks[::50]                                               # a few stay alive
    del blocks
    held = _rss_bytes()
    assert heap.release_free_heap()
    assert _rss_bytes() < held - 50 * 2**20
    del keep


def test_release_every_counts_calls_per_process(monkeypatch):
    released = []
    monkeypatch.setattr(heap, "release_free_heap", lambda: released.append(1) or True)
    monkeypatch.setattr(heap, "_calls", 0)
    done = [heap.release_every(3) for _ in range(7)]
    assert done == [False, False, True, False, False, True, False] and len(released) == 2
