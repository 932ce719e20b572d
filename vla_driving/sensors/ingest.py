"""The ROS-free ingest core: decode + validate + synchronise, with counters by reason.

The `camera_ingest` node and the planner both feed an `Ingest` from their subscriptions:
`on_image(camera, fields, now_ns)`, `on_odometry(fields, now_ns)`, `on_instruction(text, now_ns)`.
Each returns None when the input was accepted, or a `Rejection` (reason code + readable detail)
that the caller logs; bad input is counted and never raises, so one broken camera cannot stop
the others. `now_ns` is always the caller's ROS clock (sim time under bag replay).

Latency is measured on the monotonic wall clock from receipt (`latency_ns`: first fresh image of
a set received -> set emitted), never as ROS clock - stamp: under sim time the clock can lag the
stamps (the lockstep bridge sends the data of time t before /clock(t)), which read -50 ms.
`stamp_to_set_ns` keeps ROS clock - stamp for wall-clock benchmarks, where both share a base.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from vla_driving.constants import NS_PER_S
from vla_driving.types import EgoState, Frame, SyncedSet
from vla_driving.sensors.camera_info import (REASON_CAMERA_INFO, CameraInfoFields,
                                              camera_info_mismatch)
from vla_driving.sensors.config import IngestConfig
from vla_driving.sensors.decode import CompressedImage, DecodeError, DecodeLimits, RawImage, decode
from vla_driving.sensors.odometry import OdometryError, OdometryFields, ego_from_odometry
from vla_driving.sensors.sync import MultiViewSync

REASON_UNKNOWN_CAMERA = "unknown_camera"
REASON_STAMP_BACKWARDS = "stamp_not_increasing"
REASON_STALE = "stale"
REASON_FUTURE = "future_stamp"
REASON_TOO_LONG = "too_long"
REASON_NOT_TEXT = "not_text"
REASON_UNEXPECTED = "unexpected_error"
SOURCE_ODOMETRY = "odometry"
SOURCE_INSTRUCTION = "instruction"
LATENCY_WINDOW = 512
# Raw instructions longer than this many times the limit are refused before whitespace is
# collapsed (a 1 MB string was copied character by character and left RSS 30 MB higher).
RAW_INSTRUCTION_FACTOR = 4
# A ROS clock that jumps back by more than this (bag loop, simulator reset) resets the sync.
CLOCK_JUMP_BACK_NS = NS_PER_S


@dataclass(frozen=True)
class Rejection:
    """Why one input was refused: `source` is a camera name, "odometry" or "instruction"."""

    source: str
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}: {self.detail}"


@dataclass
class SourceCounters:
    received: int = 0
    accepted: int = 0
    rejected: Counter | None = None

    def __post_init__(self) -> None:
        self.rejected = Counter() if self.rejected is None else self.rejected


class Ingest:
    """Decoder + multi-view sync + latest ego state and instruction, safe to share between
    callback threads (one lock around every update and read)."""

    def __init__(self, config: IngestConfig, on_set: Callable[[SyncedSet], None] | None = None,
                 wall_ns: Callable[[], int] = time.monotonic_ns):
        self.config = config
        self.wall_ns = wall_ns                     # the monotonic clock stage latencies use
        self.limits = DecodeLimits(max_width=config.max_width, max_height=config.max_height)
        self.sync = MultiViewSync(config.cameras, config.anchor,
                                  tolerance_ns=_ns(config.sync_tolerance_s),
                                  hold_max_ns=_ns(config.hold_max_s),
                                  max_wait_ns=_ns(config.max_wait_s),
                                  buffer_len=config.buffer_len, history=config.history)
        self.counters = {s: SourceCounters() for s in (*config.cameras, SOURCE_ODOMETRY,
                                                       SOURCE_INSTRUCTION)}
        self.latency_ns: deque[int] = deque(maxlen=LATENCY_WINDOW)       # receipt -> set, wall
        self.stamp_to_set_ns: deque[int] = deque(maxlen=LATENCY_WINDOW)  # ROS clock - stamp
        self.ego: EgoState | None = None
        self.ego_received_ns: int | None = None    # ROS clock when `ego` arrived
        self.set_received_ns: int | None = None    # ROS clock when the newest set was emitted
        self.set_received_wall_ns: int | None = None   # wall: the newest set's first receipt
        self.instruction = ""
        self.clock_resets = 0
        self.unknown_camera = 0
        self.last_rejection: Rejection | None = None
        self._set_listeners = [on_set] if on_set is not None else []
        self._last_stamp: dict[str, int] = {}
        self.camera_infos: dict[str, CameraInfoFields] = {}   # the newest per camera
        self._last_now = 0
        self._lock = threading.RLock()  # re-entrant: on_set may read history()

    # -- inputs -------------------------------------------------------------------------------
    def on_image(self, camera: str, fields: RawImage | CompressedImage, stamp_ns: int,
                 now_ns: int) -> Rejection | None:
        """Decode and buffer one camera image stamped `stamp_ns` (header time)."""
        received = self.wall_ns()
        with self._lock:
            self._check_clock(now_ns)
            if camera not in self.sync.cameras:
                self.unknown_camera += 1
                return self._reject(camera, REASON_UNKNOWN_CAMERA,
                                    f"not one of {list(self.sync.cameras)}", count=False)
            self.counters[camera].received += 1
            problem = self._check_stamp(camera, stamp_ns, now_ns)
            if problem:
                return self._reject(camera, *problem)
            try:
                image = decode(fields, self.limits)
            except DecodeError as exc:
                return self._reject(camera, exc.reason, exc.detail)
            except Exception as exc:  # noqa: BLE001 - a decoder bug must not stop the cameras
                return self._reject(camera, REASON_UNEXPECTED, f"{type(exc).__name__}: {exc}")
            if camera in self.config.camera_info_cameras:
                bad = camera_info_mismatch(camera, self.camera_infos.get(camera),
                                           image.shape[1], image.shape[0],
                                           self.config.camera_info_topic_for(camera))
                if bad:
                    return self._reject(camera, REASON_CAMERA_INFO, bad)
            self._last_stamp[camera] = stamp_ns
            self.counters[camera].accepted += 1
            sets = self.sync.add(Frame(camera, stamp_ns, image, received), now_ns)
            self._publish(sets, now_ns)
        return None

    def on_camera_info(self, camera: str, info: CameraInfoFields) -> None:
        """The camera's calibration; its next frames are checked against it (size, pinhole)."""
        with self._lock:
            self.camera_infos[camera] = info

    def on_odometry(self, odom: OdometryFields, now_ns: int) -> Rejection | None:
        with self._lock:
            self._check_clock(now_ns)
            self.counters[SOURCE_ODOMETRY].received += 1
            last = self.ego.stamp_ns if self.ego is not None else None
            if last is not None and odom.stamp_ns <= last:
                return self._reject(SOURCE_ODOMETRY, REASON_STAMP_BACKWARDS,
                                    f"stamp {odom.stamp_ns} ns is not after {last} ns")
            ahead = self._future(odom.stamp_ns, now_ns)
            if ahead:
                return self._reject(SOURCE_ODOMETRY, REASON_FUTURE, ahead)
            try:
                self.ego = ego_from_odometry(odom, self.ego, self.config.odometry)
                self.ego_received_ns = now_ns or None  # 0: no clock yet
            except OdometryError as exc:
                return self._reject(SOURCE_ODOMETRY, exc.reason, exc.detail)
            except Exception as exc:  # noqa: BLE001 - a checker bug must not stop the input
                return self._reject(SOURCE_ODOMETRY, REASON_UNEXPECTED,
                                    f"{type(exc).__name__}: {exc}")
            self.counters[SOURCE_ODOMETRY].accepted += 1
        return None

    def on_instruction(self, text: str, now_ns: int) -> Rejection | None:
        """Replace the current instruction; an over-long one is refused, the old one kept."""
        with self._lock:
            self.counters[SOURCE_INSTRUCTION].received += 1
            if not isinstance(text, str):
                return self._reject(SOURCE_INSTRUCTION, REASON_NOT_TEXT, f"got {type(text)}")
            limit = self.config.max_instruction_chars
            if len(text) > RAW_INSTRUCTION_FACTOR * limit:   # refused before any copy is made
                return self._reject(SOURCE_INSTRUCTION, REASON_TOO_LONG,
                                    f"{len(text)} characters, at most {limit} allowed")
            clean = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
            if len(clean) > self.config.max_instruction_chars:
                return self._reject(SOURCE_INSTRUCTION, REASON_TOO_LONG,
                                    f"{len(clean)} characters, at most "
                                    f"{self.config.max_instruction_chars} allowed")
            self.instruction = clean
            self.counters[SOURCE_INSTRUCTION].accepted += 1
        return None

    def poll(self, now_ns: int) -> list[SyncedSet]:
        """Emit a pending set whose wait is over; call periodically from a ROS-clock timer."""
        with self._lock:
            self._check_clock(now_ns)
            sets = self.sync.poll(now_ns)
            self._publish(sets, now_ns)
        return sets

    # -- outputs ------------------------------------------------------------------------------
    def history(self, length: int | None = None) -> list[SyncedSet]:
        """The last `length` synchronised sets, oldest first; padded by repeating the oldest
        when fewer exist (empty when none)."""
        with self._lock:
            sets = list(self.sync.history)
        if length is None or not sets:
            return sets
        sets = sets[-length:]
        return [sets[0]] * (length - len(sets)) + sets

    def stats(self) -> dict:
        """A snapshot of every counter, for diagnostics and benchmarks."""
        with self._lock:
            sync = self.sync.counters
            return {
                "sources": {name: {"received": c.received, "accepted": c.accepted,
                                   "rejected": dict(c.rejected)}
                            for name, c in self.counters.items()},
                "sets": sync.sets, "degraded_sets": sync.degraded_sets,
                "held_views": dict(sync.held_views), "missing_views": dict(sync.missing_views),
                "dropped": dict(sync.dropped), "clock_resets": self.clock_resets,
                "unknown_camera": self.unknown_camera,
                "latency_ns": list(self.latency_ns),
                "stamp_to_set_ns": list(self.stamp_to_set_ns),
            }

    # -- internals ----------------------------------------------------------------------------
    def _check_stamp(self, camera: str, stamp_ns: int, now_ns: int) -> tuple[str, str] | None:
        ahead = self._future(stamp_ns, now_ns)
        if ahead:  # checked first: a future frame accepted would block every later one
            return REASON_FUTURE, ahead
        last = self._last_stamp.get(camera)
        if last is not None and stamp_ns <= last:
            return REASON_STAMP_BACKWARDS, f"stamp {stamp_ns} ns is not after {last} ns"
        age = now_ns - stamp_ns
        # now_ns == 0: the ROS clock has not started (use_sim_time before /clock); no age check.
        if now_ns > 0 and age > _ns(self.config.max_frame_age_s):
            return REASON_STALE, (f"frame is {age / NS_PER_S:.3f} s old, at most "
                                  f"{self.config.max_frame_age_s} s allowed")
        return None

    def _future(self, stamp_ns: int, now_ns: int) -> str:
        """Why `stamp_ns` is too far ahead of the clock ("" when it is not, or no clock yet)."""
        ahead = stamp_ns - now_ns
        if now_ns > 0 and ahead > _ns(self.config.max_future_s):
            return (f"stamped {ahead / NS_PER_S:.3f} s ahead of the clock, at most "
                    f"{self.config.max_future_s} s allowed")
        return ""

    def _check_clock(self, now_ns: int) -> None:
        if now_ns + CLOCK_JUMP_BACK_NS < self._last_now:
            self.sync.reset()
            self._last_stamp.clear()
            self.ego = None
            self.ego_received_ns = self.set_received_ns = None
            self.clock_resets += 1
        self._last_now = now_ns

    def _reject(self, source: str, reason: str, detail: str, count: bool = True) -> Rejection:
        if count:
            self.counters[source].rejected[reason] += 1
        self.last_rejection = Rejection(source, reason, detail)
        return self.last_rejection

    def _publish(self, sets: list[SyncedSet], now_ns: int) -> None:
        wall = self.wall_ns() if sets else 0
        for synced in sets:
            self.set_received_ns = now_ns or None
            self.set_received_wall_ns = first_receipt_ns(synced)
            self.latency_ns.append(wall - self.set_received_wall_ns)   # monotonic: >= 0
            if now_ns > 0:   # 0: no clock yet (use_sim_time before the first /clock)
                self.stamp_to_set_ns.append(now_ns - synced.stamp_ns)
            for listener in self._set_listeners:
                listener(synced)

    def add_set_listener(self, listener: Callable[[SyncedSet], None]) -> None:
        """Also call `listener` with every new synchronised set (under the lock)."""
        self._set_listeners.append(listener)


class RejectionLog:
    """Decides which rejections to log: the first of each (source, reason), then at most one
    per `period_s` of the caller's clock; the counters in `Ingest.stats()` count all of them."""

    def __init__(self, period_s: float) -> None:
        self._period_ns = _ns(period_s)
        self._last: dict[tuple[str, str], int] = {}

    def due(self, rejection: Rejection | None, now_ns: int) -> bool:
        if rejection is None:
            return False
        key = (rejection.source, rejection.reason)
        last = self._last.get(key)
        if last is not None and 0 <= now_ns - last < self._period_ns:
            return False
        self._last[key] = now_ns
        return True


def first_receipt_ns(synced: SyncedSet) -> int:
    """When the first fresh view of `synced` was received (held views are older frames)."""
    fresh = [f.received_ns for c, f in synced.frames.items() if c not in synced.held]
    return min(fresh or [f.received_ns for f in synced.frames.values()] or [0])


def stack_views(sets: list[SyncedSet], cameras: tuple[str, ...] | list[str]) -> np.ndarray:
    """T x N x H x W x 3 uint8 from synced sets (oldest first); a missing view is black and mono
    views are repeated into three channels. All views must share one size."""
    if not sets:
        raise ValueError("no synchronised sets to stack")
    shapes = {f.image.shape[:2] for s in sets for f in s.frames.values()}
    if len(shapes) != 1:
        raise ValueError(f"views have different sizes {sorted(shapes)}; resize them first")
    height, width = shapes.pop()
    out = np.zeros((len(sets), len(cameras), height, width, 3), dtype=np.uint8)
    for t, synced in enumerate(sets):
        for n, camera in enumerate(cameras):
            frame = synced.frames.get(camera)
            if frame is None:
                continue
            image = frame.image
            if image.dtype == np.uint16:
                image = (image >> 8).astype(np.uint8)
            out[t, n] = image[:, :, None] if image.ndim == 2 else image
    return out


def _ns(seconds: float) -> int:
    return int(round(seconds * NS_PER_S))
