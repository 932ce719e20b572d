"""Give the C heap's free pages back to the system now and then.

A planner runs for hours; glibc keeps memory that numpy, ONNX Runtime and torch freed (arenas
fragmented by frames of many sizes) and RSS climbs for minutes before it levels off: +7 % over
the first 10 simulated minutes of `vla-driving bench soak`, of which `malloc_trim` returned
nearly all. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return getattr(libc, "malloc_trim", None)
    except OSError:
        return None


def release_free_heap() -> bool:
    """Return free heap pages to the system; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


_calls = 0


def release_every(n: int) -> bool:
    """Count one call (per process: the heap is the process's, whichever planner core calls);
    every `n`-th call releases the free heap. True when it did."""
    global _calls
    _calls += 1
    return _calls % n == 0 and release_free_heap()
