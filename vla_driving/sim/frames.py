"""highway-env <-> ROS frame conversion.

highway-env draws its world with y pointing down the screen, so its lane 0 is the driver's left
and a positive steering angle turns right as seen from above. The ROS frame (REP 103) has y left:
mirroring y (and so heading and steering) maps one onto the other.
"""

from __future__ import annotations

import numpy as np


def xy_to_ros(xy) -> np.ndarray:
    p = np.asarray(xy, dtype=np.float64).copy()
    p[..., 1] = -p[..., 1]
    return p


def yaw_to_ros(heading: float) -> float:
    return float(np.arctan2(np.sin(-heading), np.cos(-heading)))


def steering_to_hw(steering_ros: float) -> float:
    return -float(steering_ros)


def steering_to_ros(steering_hw: float) -> float:
    return -float(steering_hw)


def world_to_ego(points: np.ndarray, x: float, y: float, yaw: float) -> np.ndarray:
    """ROS world points (N x 2) into the ego frame at (x, y, yaw): x forward, y left."""
    d = np.asarray(points, dtype=np.float64) - np.array([x, y])
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([c * d[..., 0] + s * d[..., 1], -s * d[..., 0] + c * d[..., 1]], axis=-1)
