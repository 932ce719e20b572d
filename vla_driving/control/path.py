"""A plan's trajectory held in the odometry frame, re-expressed in the current ego frame.

Waypoints arrive in the ego frame at the plan's image stamp; the car keeps moving while the plan
is computed and tracked, so they are anchored to the odometry pose at that stamp once and
projected into the current ego frame at every control step.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from vla_driving.constants import NS_PER_S, WAYPOINT_DT_S
from vla_driving.types import EgoState


def to_world(points_ego: np.ndarray, pose: EgoState) -> np.ndarray:
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    rot = np.array([[c, -s], [s, c]])
    return points_ego @ rot.T + np.array([pose.x, pose.y])


def to_ego(points_world: np.ndarray, pose: EgoState) -> np.ndarray:
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    rot = np.array([[c, -s], [s, c]])
    return (points_world - np.array([pose.x, pose.y])) @ rot


@dataclass(frozen=True)
class TrackedPath:
    """Trajectory points in the odometry frame; point 0 is the ego position at `stamp_ns`."""

    stamp_ns: int
    points: np.ndarray          # (N+1) x 2, odometry frame
    times_s: np.ndarray         # N+1, seconds after stamp_ns

    @classmethod
    def from_plan(cls, waypoints_ego: np.ndarray, stamp_ns: int, pose: EgoState) -> "TrackedPath":
        wp = np.asarray(waypoints_ego, dtype=np.float64).reshape(-1, 2)
        pts = np.vstack([np.zeros((1, 2)), wp])
        times = WAYPOINT_DT_S * np.arange(len(pts))
        return cls(stamp_ns, to_world(pts, pose), times)

    def speed_at(self, t_s: float) -> float:
        """Planned speed (segment length / dt) at `t_s` seconds after the stamp."""
        seg = np.linalg.norm(np.diff(self.points, axis=0), axis=1) / np.diff(self.times_s)
        idx = int(np.clip(np.searchsorted(self.times_s, t_s, side="right") - 1, 0, len(seg) - 1))
        return float(seg[idx])

    def in_ego(self, pose: EgoState) -> np.ndarray:
        return to_ego(self.points, pose)


class PoseHistory:
    """Recent odometry, to find where the car was at a plan's image stamp."""

    def __init__(self, horizon_s: float = 5.0) -> None:
        self._poses: deque[EgoState] = deque()
        self._horizon_ns = int(horizon_s * NS_PER_S)

    def add(self, ego: EgoState) -> None:
        if self._poses and ego.stamp_ns < self._poses[-1].stamp_ns:
            self._poses.clear()  # time jumped back (sim reset, bag loop): start over
        self._poses.append(ego)
        while self._poses and ego.stamp_ns - self._poses[0].stamp_ns > self._horizon_ns:
            self._poses.popleft()

    @property
    def latest(self) -> EgoState | None:
        return self._poses[-1] if self._poses else None

    def at(self, stamp_ns: int) -> EgoState | None:
        """The pose nearest to `stamp_ns` (None without odometry)."""
        if not self._poses:
            return None
        return min(self._poses, key=lambda p: abs(p.stamp_ns - stamp_ns))
