"""Lateral trackers: pure pursuit and Stanley, on a path in the current ego frame (x fwd, y left).

Both return a front-wheel steering angle in radians, positive to the left.
"""

from __future__ import annotations

import math

import numpy as np

SPEED_EPS_M_S = 0.5  # keeps Stanley's cross-track term finite at standstill


def _point_at_distance(path_ego: np.ndarray, distance: float) -> np.ndarray:
    """First point along the path (ahead of the car) at `distance` from the origin."""
    ahead = path_ego[path_ego[:, 0] > 0.0]
    if len(ahead) == 0:
        return path_ego[-1]
    dist = np.linalg.norm(ahead, axis=1)
    beyond = np.nonzero(dist >= distance)[0]
    if len(beyond) == 0:
        return ahead[-1]
    i = beyond[0]
    if i == 0:
        return ahead[0]
    a, b = ahead[i - 1], ahead[i]
    da, db = dist[i - 1], dist[i]
    frac = (distance - da) / max(db - da, 1e-9)
    return a + frac * (b - a)


def pure_pursuit(path_ego: np.ndarray, speed: float, wheelbase: float, min_lookahead: float,
                 gain_s: float) -> float:
    lookahead = max(min_lookahead, gain_s * abs(speed))
    target = _point_at_distance(path_ego, lookahead)
    dist = float(np.linalg.norm(target))
    if dist < 1e-3:
        return 0.0
    alpha = math.atan2(target[1], target[0])
    return math.atan2(2.0 * wheelbase * math.sin(alpha), dist)


def stanley(path_ego: np.ndarray, speed: float, wheelbase: float, gain: float) -> float:
    """Stanley: heading error of the nearest segment + atan(k * cross-track / speed) at the front axle."""
    front = np.array([wheelbase, 0.0])
    seg_a, seg_b = path_ego[:-1], path_ego[1:]
    d = seg_b - seg_a
    length2 = np.maximum((d ** 2).sum(axis=1), 1e-9)
    t = np.clip(((front - seg_a) * d).sum(axis=1) / length2, 0.0, 1.0)
    nearest = seg_a + t[:, None] * d
    i = int(np.argmin(np.linalg.norm(nearest - front, axis=1)))
    heading = math.atan2(d[i, 1], d[i, 0]) if length2[i] > 1e-6 else 0.0
    offset = nearest[i] - front
    cross = -math.sin(heading) * offset[0] + math.cos(heading) * offset[1]  # > 0 when the path is to the left
    return heading + math.atan2(gain * cross, abs(speed) + SPEED_EPS_M_S)
