"""Trajectory validator between planner and controller, after Autoware's `planning_validator`
(autowarefoundation/autoware.universe, planning/planning_validator: README "Supported features"
and `config/planning_validator.param.yaml`).

Its checks, on our 0.5 s-spaced waypoints: finite values, point interval, curvature, relative
angle between segments, lateral acceleration, longitudinal acceleration and jerk, speed limit and
the ego's distance from the trajectory. Autoware's defaults are kept where they fit a car (interval
100 m, relative angle 2.0 rad, curvature 1.0 1/m, lateral and longitudinal acceleration 9.8 m/s^2,
distance deviation 100 m); the speed limit, interval and jerk bounds are ours (Autoware has no
jerk check; the issue that added this validator asked for one). A failed check rejects the plan;
the controller keeps the last valid plan within its age bound, then stops (Autoware's option 2,
"publish the last validated trajectory").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vla_driving.configuration import Config, param
from vla_driving.constants import WAYPOINT_DT_S

CHECK_FINITE = "finite"
CHECK_INTERVAL = "interval"
CHECK_CURVATURE = "curvature"
CHECK_RELATIVE_ANGLE = "relative_angle"
CHECK_LATERAL_ACC = "lateral_acc"
CHECK_LONGITUDINAL_ACC = "longitudinal_acc"
CHECK_JERK = "longitudinal_jerk"
CHECK_SPEED = "speed_limit"
CHECK_DEVIATION = "distance_deviation"
CHECKS = (CHECK_FINITE, CHECK_INTERVAL, CHECK_CURVATURE, CHECK_RELATIVE_ANGLE, CHECK_LATERAL_ACC,
          CHECK_LONGITUDINAL_ACC, CHECK_JERK, CHECK_SPEED, CHECK_DEVIATION)


@dataclass
class ValidatorConfig(Config):
    """Thresholds of the trajectory validator (Autoware planning_validator `thresholds`)."""

    enabled: bool = param(True, "validate every plan before the controller tracks it")
    max_interval_m: float = param(25.0, "largest distance between consecutive points (Autoware: "
                                  "interval 100 m; ours are 0.5 s apart, 25 m = 50 m/s)",
                                  low=0.1, high=1000.0)
    max_curvature_1_m: float = param(1.0, "largest curvature of three consecutive points "
                                     "(Autoware: curvature 1.0)", low=0.001, high=100.0)
    curvature_min_segment_m: float = param(0.5, "curvature and relative angle are measured only "
                                           "where both segments are at least this long (a car "
                                           "standing still has no heading)", low=0.0, high=10.0)
    max_relative_angle_rad: float = param(2.0, "largest heading change between consecutive "
                                          "segments (Autoware: relative_angle 2.0)",
                                          low=0.01, high=math.pi)
    max_lateral_acc_m_s2: float = param(9.8, "largest v^2 x curvature (Autoware: lateral_acc 9.8)",
                                        low=0.1, high=100.0)
    max_longitudinal_acc_m_s2: float = param(9.8, "largest acceleration between segments "
                                             "(Autoware: longitudinal_max_acc 9.8)",
                                             low=0.1, high=100.0)
    max_longitudinal_decel_m_s2: float = param(9.8, "largest deceleration between segments "
                                               "(Autoware: longitudinal_min_acc -9.8)",
                                               low=0.1, high=100.0)
    max_jerk_m_s3: float = param(40.0, "largest change of that acceleration per second",
                                 low=0.1, high=1000.0)
    max_speed_m_s: float = param(45.0, "largest segment speed (the controller also clips its "
                                 "target to vehicle.max_speed_m_s)", low=0.5, high=200.0)
    max_distance_deviation_m: float = param(100.0, "largest distance from the ego position to "
                                            "the trajectory (Autoware: distance_deviation 100)",
                                            low=0.1, high=10000.0)


@dataclass(frozen=True)
class Validation:
    """The checks a trajectory failed (empty: valid), each with a readable detail."""

    failed: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        return "valid" if self.ok else "; ".join(f"{name}: {detail}" for name, detail in self.failed)


def validate_trajectory(points: np.ndarray, cfg: ValidatorConfig, ego_xy: np.ndarray | None = None,
                        dt_s: float = WAYPOINT_DT_S) -> Validation:
    """Check an (N+1) x 2 trajectory whose point 0 is the ego at the plan's stamp and whose
    points are `dt_s` apart; `ego_xy` is the current ego position in the same frame."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2:
        return Validation(((CHECK_FINITE, f"expected N x 2 points (N >= 2), got {pts.shape}"),))
    if not np.all(np.isfinite(pts)):
        return Validation(((CHECK_FINITE, "non-finite coordinates"),))
    with np.errstate(all="ignore"):   # overflow of absurd but finite points: a failed check
        return Validation(tuple(_checks(pts, cfg, ego_xy, dt_s)))


def _checks(pts: np.ndarray, cfg: ValidatorConfig, ego_xy: np.ndarray | None,
            dt_s: float) -> list[tuple[str, str]]:
    failed: list[tuple[str, str]] = []
    seg = np.diff(pts, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    speed = length / dt_s

    def bound(name: str, values: np.ndarray, limit: float, what: str) -> None:
        bad = ~(values <= limit)   # NaN (an overflow of absurd input) fails too
        if np.any(bad):
            worst = float(np.max(np.nan_to_num(values[bad], nan=np.inf)))
            failed.append((name, f"{what} {worst:.3g} > {limit:g}"))

    bound(CHECK_INTERVAL, length, cfg.max_interval_m, "point interval (m)")
    bound(CHECK_SPEED, speed, cfg.max_speed_m_s, "segment speed (m/s)")
    curvature, angle = _curvature_and_angle(pts, length, cfg.curvature_min_segment_m)
    bound(CHECK_CURVATURE, curvature, cfg.max_curvature_1_m, "curvature (1/m)")
    bound(CHECK_RELATIVE_ANGLE, angle, cfg.max_relative_angle_rad, "relative angle (rad)")
    vertex_speed = 0.5 * (speed[:-1] + speed[1:])
    bound(CHECK_LATERAL_ACC, curvature * vertex_speed ** 2, cfg.max_lateral_acc_m_s2,
          "lateral acceleration (m/s^2)")
    acc = np.diff(speed) / dt_s
    bound(CHECK_LONGITUDINAL_ACC, acc, cfg.max_longitudinal_acc_m_s2, "acceleration (m/s^2)")
    bound(CHECK_LONGITUDINAL_ACC, -acc, cfg.max_longitudinal_decel_m_s2, "deceleration (m/s^2)")
    bound(CHECK_JERK, np.abs(np.diff(acc)) / dt_s, cfg.max_jerk_m_s3, "jerk (m/s^3)")
    if ego_xy is not None:
        deviation = _distance_to_polyline(np.asarray(ego_xy, dtype=np.float64), pts)
        bound(CHECK_DEVIATION, np.array([deviation]), cfg.max_distance_deviation_m,
              "ego distance from the trajectory (m)")
    return failed


def _curvature_and_angle(pts: np.ndarray, length: np.ndarray,
                         min_segment: float) -> tuple[np.ndarray, np.ndarray]:
    """Menger curvature and heading change at every inner point whose two segments are long
    enough (elsewhere 0)."""
    a, b = length[:-1], length[1:]
    usable = (a >= max(min_segment, 1e-9)) & (b >= max(min_segment, 1e-9))
    p0, p1, p2 = pts[:-2], pts[1:-1], pts[2:]
    cross = (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p1[:, 1]) - (p1[:, 1] - p0[:, 1]) * (p2[:, 0] - p1[:, 0])
    dot = (p1[:, 0] - p0[:, 0]) * (p2[:, 0] - p1[:, 0]) + (p1[:, 1] - p0[:, 1]) * (p2[:, 1] - p1[:, 1])
    c = np.hypot(p2[:, 0] - p0[:, 0], p2[:, 1] - p0[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        curvature = np.where(usable, 2.0 * np.abs(cross) / (a * b * c), 0.0)
    angle = np.where(usable, np.abs(np.arctan2(cross, dot)), 0.0)
    return np.nan_to_num(curvature, nan=0.0, posinf=np.inf), angle


def _distance_to_polyline(p: np.ndarray, pts: np.ndarray) -> float:
    a, b = pts[:-1], pts[1:]
    ab = b - a
    denom = np.maximum(np.sum(ab * ab, axis=1), 1e-12)
    t = np.clip(np.sum((p - a) * ab, axis=1) / denom, 0.0, 1.0)
    nearest = a + t[:, None] * ab
    return float(np.min(np.hypot(*(nearest - p).T)))
