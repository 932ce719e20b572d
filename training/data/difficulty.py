"""Per-frame difficulty in [0, 1] (DriveRX filters training frames by it).

A weighted sum of what makes a frame hard to plan: the manoeuvre (turns and lane changes over
straight driving), strong acceleration or braking, and traffic close to the ego.
"""

from __future__ import annotations

import numpy as np

STEER_WEIGHT = {"idle": 0.0, "straight": 0.0, "turn_left": 0.35, "turn_right": 0.35,
                "shift_left": 0.3, "shift_right": 0.3}
SPEED_WEIGHT = {"constant_speed": 0.0, "accelerate": 0.1, "decelerate": 0.1,
                "quick_accelerate": 0.2, "quick_decelerate": 0.25}
NEAR_M = 30.0
TRAFFIC_WEIGHT = 0.35
COLLISION_DIFFICULTY = 1.0


def nearest_agent_m(sample) -> float:
    """Distance to the closest ground-truth agent (inf without ground truth)."""
    gt = sample.ground_truth
    if not gt or not gt.get("agents"):
        return float("inf")
    xs = np.array([[a["x"], a["y"]] for a in gt["agents"]])
    return float(np.min(np.hypot(*(xs - np.asarray(sample.pose[:2])).T)))


def difficulty(sample) -> float:
    if sample.collision:
        return COLLISION_DIFFICULTY
    m = sample.labels.meta
    score = STEER_WEIGHT[m.steering] + SPEED_WEIGHT[m.speed]
    near = nearest_agent_m(sample)
    if np.isfinite(near):
        score += TRAFFIC_WEIGHT * max(0.0, 1.0 - near / NEAR_M)
    return float(min(1.0, score))
