"""The braking probe of validation: how much a plan slows where the expert slows."""

from __future__ import annotations

import numpy as np

from vla_driving_training.validate import braking_response, constant_velocity


def _straight(speeds: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """[B, 6, 2] plans whose travel is `ratio` x constant velocity's, evenly over the horizon."""
    cv = constant_velocity(np.stack([speeds, 0 * speeds, 0 * speeds], 1), 6)
    out = cv.copy()
    out[..., 0] *= ratio[:, None]
    return out


def test_a_plan_that_brakes_like_the_expert_scores_the_experts_share():
    speeds = np.array([20.0, 25.0, 30.0, 10.0, 0.5])
    expert_ratio = np.array([0.6, 0.8, 1.0, 1.05, 0.2])   # the last: too slow to count
    cv = _straight(speeds, np.ones(5))
    expert = _straight(speeds, expert_ratio)
    same = braking_response(expert, expert, cv)
    assert same["frames"] == 2
    assert same["expert"] == same["model"] == np.float64(0.7).item()
    copycat = braking_response(cv, expert, cv)             # never slows
    assert copycat["frames"] == 2 and copycat["model"] == 1.0 and copycat["expert"] == 0.7


def test_no_braking_frames_is_said_not_averaged():
    speeds = np.array([20.0, 25.0])
    cv = _straight(speeds, np.ones(2))
    assert braking_response(cv, cv, cv) == {"frames": 0, "expert": None, "model": None}
