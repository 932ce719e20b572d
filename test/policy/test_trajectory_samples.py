"""Autoware-style trajectory points from a plan (`planner_outputs.trajectory_samples`)."""

import math

import numpy as np
import pytest

from vla_driving.policy.planner_outputs import trajectory_samples
from vla_driving.types import ControlSignals, EgoState, MetaAction, Plan

NS = 10**9
STILL = ControlSignals(0.0, 0.0, 0.0, 0.0)


def plan(waypoints) -> Plan:
    return Plan(5 * NS, np.asarray(waypoints, dtype=float), STILL, STILL,
                MetaAction("constant_speed", "straight"))


def test_a_straight_plan_lands_in_the_odometry_frame_at_the_image_stamp():
    ego = EgoState(5 * NS - NS // 10, x=100.0, y=50.0, yaw=math.pi / 2, speed=10.0)
    samples = trajectory_samples(plan([[5.0 * k, 0.0] for k in range(1, 7)]), ego)
    assert [s.time_from_start_s for s in samples] == [0.5 * i for i in range(7)]
    assert samples[0].x == pytest.approx(100.0) and samples[0].y == pytest.approx(51.0)  # +0.1 s
    assert samples[-1].y == pytest.approx(51.0 + 30.0)
    assert all(s.yaw == pytest.approx(math.pi / 2) for s in samples)
    assert all(s.velocity == pytest.approx(10.0) for s in samples)
    assert all(s.acceleration == pytest.approx(0.0, abs=1e-9) for s in samples)


def test_velocity_heading_and_rates_follow_the_points():
    # accelerating while turning left: speed 2, 4, ... m/s per half-second segment
    pts, x, y, heading = [], 0.0, 0.0, 0.0
    for k in range(1, 7):
        heading += 0.1
        x, y = x + k * math.cos(heading), y + k * math.sin(heading)
        pts.append([x, y])
    samples = trajectory_samples(plan(pts))
    assert samples[0].x == 0.0 and samples[0].yaw == 0.0
    assert [s.yaw for s in samples[1:]] == pytest.approx([0.1 * k for k in range(1, 7)])
    assert samples[3].velocity == pytest.approx(7.0, rel=0.02)     # mean of 6 and 8 m/s
    assert samples[3].acceleration == pytest.approx(4.0, rel=0.05)
    assert samples[3].heading_rate == pytest.approx(0.2, rel=0.01)


def test_a_stop_keeps_its_heading_and_has_zero_speed():
    samples = trajectory_samples(plan([[1.0, 0.0]] + [[1.0, 0.0]] * 5))
    assert [s.velocity for s in samples[2:]] == pytest.approx([0.0] * 5, abs=1e-9)
    assert all(s.yaw == 0.0 for s in samples)
