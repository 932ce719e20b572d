"""Multi-view synchronisation: the anchor camera's frames trigger sets of one frame per camera.

Policy (all times are stamps/clock values in ns passed in by the caller; no wall clock here):

- Each camera has a bounded buffer; a full buffer drops its oldest frame (counted as `dropped`
  only when that frame was never used in a set).
- An anchor frame opens a pending set. It is emitted as soon as every other camera has a frame
  within `tolerance_ns` of the anchor stamp, or when `max_wait_ns` of clock time has passed
  (`poll`), or when a newer pending set completes (sets leave in anchor order). At most
  `buffer_len` sets wait; a further anchor frame forces the oldest out.
- A view with no frame within tolerance is *held*: its newest frame not newer than the anchor
  (+ tolerance) is reused while it is at most `hold_max_ns` older than the anchor. Past that
  bound, or with no frame at all, the view is *missing* and the set is marked degraded.
- The last `history` emitted sets are kept, oldest first, for video input.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from vla_driving.types import Frame, SyncedSet


@dataclass
class SyncCounters:
    """Counts since start; per-camera dicts are keyed by camera name."""

    sets: int = 0
    degraded_sets: int = 0
    held_views: dict[str, int] = field(default_factory=dict)
    missing_views: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)


@dataclass
class _Slot:
    frame: Frame
    used: bool = False


@dataclass
class _Pending:
    anchor: _Slot
    deadline_ns: int


class MultiViewSync:
    """Buffers frames per camera and assembles `SyncedSet`s triggered by the anchor camera."""

    def __init__(self, cameras: list[str] | tuple[str, ...], anchor: str, *, tolerance_ns: int,
                 hold_max_ns: int, max_wait_ns: int, buffer_len: int = 4, history: int = 1):
        if anchor not in cameras:
            raise ValueError(f"anchor camera {anchor!r} is not one of {list(cameras)}")
        if len(set(cameras)) != len(cameras):
            raise ValueError(f"cameras {list(cameras)} contain duplicates")
        if buffer_len < 1 or history < 1:
            raise ValueError("buffer_len and history must be >= 1")
        self.cameras = tuple(cameras)
        self.anchor = anchor
        self.tolerance_ns = int(tolerance_ns)
        self.hold_max_ns = int(hold_max_ns)
        self.max_wait_ns = int(max_wait_ns)
        self._buffers: dict[str, deque[_Slot]] = {c: deque() for c in self.cameras}
        self._buffer_len = buffer_len
        self._pending: deque[_Pending] = deque()
        self.history: deque[SyncedSet] = deque(maxlen=history)
        self.counters = SyncCounters(held_views={c: 0 for c in self.cameras},
                                     missing_views={c: 0 for c in self.cameras},
                                     dropped={c: 0 for c in self.cameras})

    def add(self, frame: Frame, now_ns: int) -> list[SyncedSet]:
        """Buffer one frame; returns the sets this arrival completed (usually zero or one)."""
        buffer = self._buffers[frame.camera]
        if len(buffer) >= self._buffer_len:
            old = buffer.popleft()
            if not old.used and all(old is not p.anchor for p in self._pending):
                self.counters.dropped[frame.camera] += 1
        slot = _Slot(frame)
        buffer.append(slot)
        emitted: list[SyncedSet] = []
        if frame.camera == self.anchor:
            self._pending.append(_Pending(slot, now_ns + self.max_wait_ns))
            if len(self._pending) > self._buffer_len:
                emitted.append(self._emit(self._pending.popleft()))
        return emitted + self._flush(now_ns)

    def poll(self, now_ns: int) -> list[SyncedSet]:
        """Emit pending sets whose wait is over (call from a timer on the ROS clock)."""
        return self._flush(now_ns)

    def _flush(self, now_ns: int) -> list[SyncedSet]:
        """Emit, oldest first, every pending set that is complete, past its deadline, or older
        than a complete one."""
        complete = [self._complete(p) for p in self._pending]
        newest_complete = max((i for i, c in enumerate(complete) if c), default=-1)
        emitted = []
        for i in range(len(complete)):
            pending = self._pending[0]
            if not (i <= newest_complete or now_ns >= pending.deadline_ns):
                break
            emitted.append(self._emit(self._pending.popleft()))
        return emitted

    def reset(self) -> None:
        """Forget buffers, the pending set and history (e.g. after the clock jumped back)."""
        for buffer in self._buffers.values():
            buffer.clear()
        self._pending.clear()
        self.history.clear()

    def _closest(self, camera: str, stamp_ns: int) -> _Slot | None:
        best = None
        for slot in self._buffers[camera]:
            if abs(slot.frame.stamp_ns - stamp_ns) <= self.tolerance_ns and (
                    best is None or abs(slot.frame.stamp_ns - stamp_ns)
                    < abs(best.frame.stamp_ns - stamp_ns)):
                best = slot
        return best

    def _complete(self, pending: _Pending) -> bool:
        stamp = pending.anchor.frame.stamp_ns
        return all(self._closest(c, stamp) is not None for c in self.cameras if c != self.anchor)

    def _held(self, camera: str, stamp_ns: int) -> _Slot | None:
        """Newest frame not after the anchor (+ tolerance), if not older than the hold bound."""
        candidates = [s for s in self._buffers[camera]
                      if s.frame.stamp_ns <= stamp_ns + self.tolerance_ns]
        if not candidates:
            return None
        newest = max(candidates, key=lambda s: s.frame.stamp_ns)
        return newest if stamp_ns - newest.frame.stamp_ns <= self.hold_max_ns else None

    def _emit(self, pending: _Pending) -> SyncedSet:
        anchor = pending.anchor
        anchor.used = True
        stamp = anchor.frame.stamp_ns
        frames = {self.anchor: anchor.frame}
        held, missing = [], []
        for camera in self.cameras:
            if camera == self.anchor:
                continue
            slot = self._closest(camera, stamp)
            if slot is None:
                slot = self._held(camera, stamp)
                (held if slot is not None else missing).append(camera)
            if slot is not None:
                slot.used = True
                frames[camera] = slot.frame
        for camera in held:
            self.counters.held_views[camera] += 1
        for camera in missing:
            self.counters.missing_views[camera] += 1
        synced = SyncedSet(stamp_ns=stamp, frames={c: frames[c] for c in self.cameras if c in frames},
                           degraded=bool(missing), held=tuple(held), missing=tuple(missing))
        self.counters.sets += 1
        self.counters.degraded_sets += int(synced.degraded)
        self.history.append(synced)
        return synced
