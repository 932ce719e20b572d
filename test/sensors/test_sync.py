"""Multi-view synchronisation on numpy frames with explicit clock values."""

import numpy as np
import pytest

from vla_driving.sensors.sync import MultiViewSync
from vla_driving.types import Frame

MS = 1_000_000
IMG = np.zeros((2, 2, 3), np.uint8)


def _sync(**kwargs) -> MultiViewSync:
    args = dict(tolerance_ns=5 * MS, hold_max_ns=100 * MS, max_wait_ns=20 * MS, buffer_len=4,
                history=3)
    args.update(kwargs)
    return MultiViewSync(["front", "left", "right"], "front", **args)


def _frame(camera: str, t_ms: int) -> Frame:
    return Frame(camera, t_ms * MS, IMG)


def test_set_is_emitted_when_every_view_is_within_tolerance():
    sync = _sync()
    assert sync.add(_frame("left", 99), now_ns=100 * MS) == []
    assert sync.add(_frame("front", 100), now_ns=101 * MS) == []
    (synced,) = sync.add(_frame("right", 103), now_ns=104 * MS)
    assert synced.stamp_ns == 100 * MS and not synced.degraded and synced.held == ()
    assert {c: f.stamp_ns for c, f in synced.frames.items()} == {
        "front": 100 * MS, "left": 99 * MS, "right": 103 * MS}
    assert list(synced.frames) == ["front", "left", "right"]


def test_closest_frame_within_tolerance_is_chosen():
    sync = _sync()
    for t in (96, 101):
        sync.add(_frame("left", t), now_ns=t * MS)
    sync.add(_frame("right", 100), now_ns=100 * MS)
    (synced,) = sync.add(_frame("front", 100), now_ns=102 * MS)
    assert synced.frames["left"].stamp_ns == 101 * MS


def test_missing_view_is_held_within_bound_after_the_wait():
    sync = _sync()
    sync.add(_frame("left", 40), now_ns=40 * MS)
    sync.add(_frame("right", 100), now_ns=100 * MS)
    assert sync.add(_frame("front", 100), now_ns=101 * MS) == []
    assert sync.poll(now_ns=110 * MS) == []
    (synced,) = sync.poll(now_ns=121 * MS)
    assert synced.held == ("left",) and not synced.degraded
    assert synced.frames["left"].stamp_ns == 40 * MS
    assert sync.counters.held_views["left"] == 1


def test_view_older_than_hold_bound_is_missing_and_set_degraded():
    sync = _sync()
    sync.add(_frame("left", 0), now_ns=0)
    sync.add(_frame("right", 200), now_ns=200 * MS)
    sync.add(_frame("front", 200), now_ns=200 * MS)
    (synced,) = sync.poll(now_ns=300 * MS)
    assert synced.degraded and synced.missing == ("left",) and "left" not in synced.frames
    assert sync.counters.degraded_sets == 1 and sync.counters.missing_views["left"] == 1


def test_sets_wait_for_late_views_then_hold():
    sync = _sync()
    assert sync.add(_frame("front", 100), now_ns=100 * MS) == []
    assert sync.add(_frame("front", 133), now_ns=105 * MS) == []  # both wait for their views
    assert sync.add(_frame("left", 100), now_ns=106 * MS) == []
    (first,) = sync.add(_frame("right", 100), now_ns=107 * MS)
    assert first.stamp_ns == 100 * MS and first.held == ()
    assert sync.poll(now_ns=124 * MS) == []  # the 133 set waits until 105 + 20 ms
    (second,) = sync.poll(now_ns=125 * MS)
    assert second.stamp_ns == 133 * MS and second.held == ("left", "right")
    assert not second.degraded and second.frames["left"].stamp_ns == 100 * MS


def test_a_complete_newer_set_pushes_out_an_older_incomplete_one():
    sync = _sync()
    sync.add(_frame("front", 100), now_ns=100 * MS)
    sync.add(_frame("front", 133), now_ns=101 * MS)
    sync.add(_frame("left", 133), now_ns=109 * MS)
    older, newer = sync.add(_frame("right", 133), now_ns=110 * MS)
    assert older.stamp_ns == 100 * MS and older.missing == ("left", "right") and older.degraded
    assert newer.stamp_ns == 133 * MS and newer.held == () and not newer.degraded
    assert [s.stamp_ns for s in sync.history] == [100 * MS, 133 * MS]


def test_pending_sets_are_bounded():
    sync = _sync(buffer_len=2)
    emitted = [s for t in (0, 33, 66) for s in sync.add(_frame("front", t), now_ns=t * MS // 10)]
    assert [s.stamp_ns for s in emitted] == [0]
    assert emitted[0].missing == ("left", "right") and emitted[0].degraded


def test_buffer_drops_oldest_and_counts_only_unused_frames():
    sync = _sync(buffer_len=2)
    for t in (10, 20, 30, 40):
        sync.add(_frame("left", t), now_ns=t * MS)
    assert sync.counters.dropped["left"] == 2
    sync.add(_frame("right", 40), now_ns=40 * MS)
    sync.add(_frame("front", 40), now_ns=40 * MS)  # uses left@40
    sync.add(_frame("left", 50), now_ns=50 * MS)   # evicts left@30 (unused)
    sync.add(_frame("left", 60), now_ns=60 * MS)   # evicts left@40 (used: not a drop)
    assert sync.counters.dropped["left"] == 3


def test_history_keeps_last_sets_oldest_first():
    sync = _sync()
    for t in (0, 33, 66, 100):
        for camera in ("left", "right", "front"):
            sync.add(_frame(camera, t), now_ns=t * MS)
    assert [s.stamp_ns for s in sync.history] == [33 * MS, 66 * MS, 100 * MS]
    assert sync.counters.sets == 4
    sync.reset()
    assert len(sync.history) == 0


def test_constructor_checks():
    with pytest.raises(ValueError, match="anchor"):
        MultiViewSync(["a"], "b", tolerance_ns=0, hold_max_ns=0, max_wait_ns=0)
    with pytest.raises(ValueError, match="duplicates"):
        MultiViewSync(["a", "a"], "a", tolerance_ns=0, hold_max_ns=0, max_wait_ns=0)
