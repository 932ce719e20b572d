"""Data types that cross component boundaries. Units: metres, seconds, radians, stamps in ns.

Frames are ego-centred, x forward and y left (ROS REP 103). Every type is plain numpy + Python so
that the ROS-free modules and the tests never need rclpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vla_driving.constants import NUM_WAYPOINTS, WAYPOINT_DT_S
from vla_driving.meta_action import MetaAction


@dataclass(frozen=True)
class Frame:
    """One decoded camera image. `image` is HxWx3 RGB uint8 (or HxW for mono encodings).
    `received_ns`: when it reached the ingest, on the monotonic wall clock (0: unknown); stage
    latencies count from it, never from the stamp, whose clock may be a simulator's."""

    camera: str
    stamp_ns: int
    image: np.ndarray
    received_ns: int = 0


@dataclass(frozen=True)
class SyncedSet:
    """One frame per configured camera, triggered by the anchor camera at `stamp_ns`.

    `degraded` is True when a view was missing and either held from an older frame past the
    tolerance or absent; `held` names the views that repeat an older frame.
    """

    stamp_ns: int
    frames: dict[str, Frame]
    degraded: bool = False
    held: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class EgoState:
    """Ego motion at `stamp_ns` in the odometry frame."""

    stamp_ns: int
    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0
    speed: float = 0.0          # m/s along the body x axis
    yaw_rate: float = 0.0       # rad/s
    acceleration: float = 0.0   # m/s^2, longitudinal


@dataclass(frozen=True)
class ControlSignals:
    """Sce2DriveX's four control signals."""

    speed: float            # m/s
    steering_angle: float   # rad, front wheel, positive left
    acceleration: float     # m/s^2
    steering_rate: float    # rad/s

    def as_array(self) -> np.ndarray:
        return np.array([self.speed, self.steering_angle, self.acceleration, self.steering_rate],
                        dtype=np.float32)

    @classmethod
    def from_array(cls, values) -> "ControlSignals":
        v = [float(x) for x in values]
        if len(v) != 4 or not all(np.isfinite(v)):
            raise ValueError(f"control signals need 4 finite values, got {values!r}")
        return cls(*v)


@dataclass(frozen=True)
class Observation:
    """What a policy sees at one planning cycle.

    `images` is T x N x H x W x 3 uint8 (history oldest first, cameras in configured order),
    already synchronised; `stamp_ns` is the anchor image time that every output is stamped with.
    """

    stamp_ns: int
    images: np.ndarray
    cameras: tuple[str, ...]
    ego: EgoState
    instruction: str = ""
    degraded: bool = False
    want_text: bool = False
    frame_stamps_ns: tuple[int, ...] = ()   # stamp of each image set in `images`, oldest first


@dataclass(frozen=True)
class Plan:
    """A policy's answer for one observation, stamped with the source image time."""

    stamp_ns: int
    waypoints: np.ndarray                 # NUM_WAYPOINTS x 2, ego frame at stamp_ns
    controls: ControlSignals
    next_controls: ControlSignals
    meta_action: MetaAction
    instruction_completed: bool = False
    confidence: float = 1.0
    description: str | None = None
    justification: str | None = None
    bundle_id: str = ""
    latency_s: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        wp = np.asarray(self.waypoints, dtype=np.float64)
        if wp.shape != (NUM_WAYPOINTS, 2):
            raise ValueError(f"plan needs {NUM_WAYPOINTS}x2 waypoints, got shape {wp.shape}")
        if not np.all(np.isfinite(wp)):
            raise ValueError("plan waypoints contain NaN or inf")
        object.__setattr__(self, "waypoints", wp)

    @property
    def times_s(self) -> np.ndarray:
        return WAYPOINT_DT_S * np.arange(1, NUM_WAYPOINTS + 1)
