"""Rule-based meta-actions (Sce2DriveX style), judged on the future horizon of one frame.

Speed level: mean longitudinal acceleration over `speed_horizon_s` against thresholds.
Steering level, in layers: idle (nearly still) > turn (heading change) > shift (lateral offset
the heading change does not explain, e.g. a lane change) > straight.
Lateral speed level (Sce2DriveX's third factor; grades turns and shifts): the peak lateral
acceleration along the future waypoints against `lateral_moderate_accel` / `lateral_rapid_accel`.
"""

from __future__ import annotations

import numpy as np

from vla_driving.constants import WAYPOINT_DT_S
from vla_driving.meta_action import MetaAction
from vla_driving.data.label_config import LabelConfig

MIN_LATERAL_SPEED = 0.5   # m/s: slower points carry no meaningful direction of travel


def speed_level(mean_accel: float, cfg: LabelConfig) -> str:
    if mean_accel >= cfg.quick_accel_threshold:
        return "quick_accelerate"
    if mean_accel >= cfg.accel_threshold:
        return "accelerate"
    if mean_accel <= -cfg.quick_decel_threshold:
        return "quick_decelerate"
    if mean_accel <= -cfg.decel_threshold:
        return "decelerate"
    return "constant_speed"


def arc_residual(end_xy, heading_change: float) -> float:
    """Lateral offset of the horizon's end point beyond the constant-curvature arc.

    An arc that turns by `heading_change` has its chord at half that angle; what is left over is a
    sideways shift (positive left).
    """
    x, y = float(end_xy[0]), float(end_xy[1])
    return y - x * np.tan(heading_change / 2.0)


def steering_level(speed: float, path_length: float, heading_change: float, end_xy,
                   cfg: LabelConfig) -> str:
    if speed < cfg.idle_speed and path_length < cfg.idle_distance_m:
        return "idle"
    if heading_change > cfg.turn_heading_rad:
        return "turn_left"
    if heading_change < -cfg.turn_heading_rad:
        return "turn_right"
    residual = arc_residual(end_xy, heading_change)
    if residual > cfg.shift_offset_m:
        return "shift_left"
    if residual < -cfg.shift_offset_m:
        return "shift_right"
    return "straight"


def meta_action(speed: float, mean_accel: float, waypoints: np.ndarray, heading_change: float,
                cfg: LabelConfig) -> MetaAction:
    """Meta-action from the current speed and the future waypoints (ego frame, N x 2)."""
    wp = np.vstack([[0.0, 0.0], np.asarray(waypoints, dtype=np.float64)])
    path_length = float(np.sum(np.hypot(*np.diff(wp, axis=0).T)))
    return MetaAction(speed_level(mean_accel, cfg),
                      steering_level(speed, path_length, heading_change, wp[-1], cfg))


def lateral_acceleration(waypoints, speed: float, dt_s: float = WAYPOINT_DT_S) -> np.ndarray:
    """(S+1,) lateral acceleration (m/s^2, positive left) at the start and each waypoint of a
    plan (S x 2, ego frame, starting at the origin heading +x at `speed`): the component of the
    acceleration across the velocity, both by second-order differences over the waypoint times."""
    p = np.vstack([[0.0, 0.0], np.asarray(waypoints, dtype=np.float64).reshape(-1, 2)])
    v = np.gradient(p, dt_s, axis=0, edge_order=2)
    v[0] = [float(speed), 0.0]
    a = np.gradient(v, dt_s, axis=0, edge_order=2)
    norm = np.linalg.norm(v, axis=1)
    cross = v[:, 0] * a[:, 1] - v[:, 1] * a[:, 0]
    return np.where(norm >= MIN_LATERAL_SPEED, cross / np.maximum(norm, 1e-9), 0.0)


def lateral_level(waypoints, speed: float, cfg: LabelConfig) -> str:
    """Sce2DriveX's lateral speed level of a plan: slightly / moderately / rapidly from the
    peak |lateral acceleration| along it (see `lateral_acceleration`)."""
    wp = np.asarray(waypoints, dtype=np.float64)
    if not np.all(np.isfinite(wp)):
        raise ValueError("the lateral level needs a complete trajectory")
    peak = float(np.max(np.abs(lateral_acceleration(wp, speed))))
    if peak >= cfg.lateral_rapid_accel:
        return "rapidly"
    if peak >= cfg.lateral_moderate_accel:
        return "moderately"
    return "slightly"
