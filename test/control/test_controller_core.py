"""Trajectory controller on plain numbers: tracking, limits, watchdog stop and resume."""

import math

import numpy as np
import pytest

from vla_driving.configuration import ConfigError
from vla_driving.constants import NS_PER_S, WAYPOINT_DT_S
from vla_driving.control.config import ControllerConfig
from vla_driving.control.controller import MODE_STOPPING, MODE_TRACKING, TrajectoryController
from vla_driving.control.lateral import pure_pursuit, stanley
from vla_driving.types import EgoState

MS = NS_PER_S // 1000


def straight(speed, n=6):
    return np.stack([speed * WAYPOINT_DT_S * np.arange(1, n + 1), np.zeros(n)], axis=1)


def arc(speed, radius, n=6):
    s = speed * WAYPOINT_DT_S * np.arange(1, n + 1)
    return np.stack([radius * np.sin(s / radius), radius * (1 - np.cos(s / radius))], axis=1)


def ready(cfg=None, speed=5.0, wp=None):
    ctl = TrajectoryController(cfg or ControllerConfig())
    ctl.on_odometry(EgoState(stamp_ns=0, speed=speed))
    assert ctl.on_plan(straight(10.0) if wp is None else wp, 0, 0) is None
    return ctl


def test_accelerates_towards_the_plan_speed_and_brakes_above_it():
    cmd = ready(speed=5.0).step(50 * MS)
    assert cmd.mode == MODE_TRACKING and cmd.throttle > 0 and cmd.brake == 0 and cmd.acceleration > 0
    assert cmd.speed == pytest.approx(10.0)
    fast = ready(speed=15.0).step(50 * MS)
    assert fast.throttle == 0 and fast.brake > 0 and fast.acceleration < 0


def test_throttle_respects_the_clip():
    cmd = ready(speed=0.5).step(50 * MS)
    assert cmd.throttle == pytest.approx(ControllerConfig().max_throttle)


@pytest.mark.parametrize("lateral", ["pure_pursuit", "stanley"])
def test_steers_towards_a_left_curve_within_limits(lateral):
    cfg = ControllerConfig(lateral=lateral)
    ctl = ready(cfg, speed=8.0, wp=arc(8.0, 30.0))
    angles = [ctl.step((50 + 50 * i) * MS).steering_angle for i in range(40)]
    assert angles[-1] > 0.0, "left curve must steer left"
    expected = math.atan(cfg.vehicle.wheelbase_m / 30.0)
    assert angles[-1] == pytest.approx(expected, rel=0.5)
    rates = np.abs(np.diff([0.0] + angles)) / 0.05
    assert rates.max() <= cfg.vehicle.max_steer_rate_rad_s + 1e-9


def test_trackers_are_zero_on_a_straight_path_and_symmetric():
    path = np.vstack([[0, 0], straight(10.0)])
    assert pure_pursuit(path, 10.0, 2.9, 3.0, 0.5) == pytest.approx(0.0)
    assert stanley(path, 10.0, 2.9, 1.0) == pytest.approx(0.0)
    left = np.vstack([[0, 0], arc(8.0, 20.0)])
    right = left * np.array([1, -1])
    assert pure_pursuit(left, 8.0, 2.9, 3.0, 0.5) == pytest.approx(-pure_pursuit(right, 8.0, 2.9, 3.0, 0.5))
    assert stanley(left + [0, 1.0], 8.0, 2.9, 1.0) > stanley(left, 8.0, 2.9, 1.0)


def test_plan_timeout_stops_comfortably_and_fresh_plan_resumes():
    cfg = ControllerConfig()
    ctl = ready(cfg, speed=10.0)
    ctl.on_odometry(EgoState(stamp_ns=350 * MS, speed=10.0))
    cmd = ctl.step(400 * MS)  # plan received at 0, bound 0.3 s
    assert cmd.mode == MODE_STOPPING and "plan timeout" in cmd.reason
    assert cmd.acceleration == pytest.approx(-cfg.watchdog.comfort_decel_m_s2)
    assert cmd.throttle == 0 and cmd.speed < 10.0
    assert ctl.on_plan(straight(10.0), 380 * MS, 420 * MS) is None
    assert ctl.step(450 * MS).mode == MODE_TRACKING


def test_stale_odometry_and_planner_error_stop_until_a_new_plan():
    ctl = ready(speed=10.0)
    assert "odometry stale" in ctl.step(400 * MS).reason
    ctl = ready(speed=10.0)
    ctl.on_planner_error("malformed output", 10 * MS)
    assert "planner error" in ctl.step(50 * MS).reason
    ctl.on_odometry(EgoState(stamp_ns=60 * MS, speed=10.0))
    assert ctl.on_plan(straight(10.0), 60 * MS, 70 * MS) is None
    assert ctl.step(100 * MS).mode == MODE_TRACKING


def test_bad_or_late_plans_are_rejected_and_the_old_one_kept():
    ctl = ready(speed=5.0)
    assert "malformed" in ctl.on_plan(np.full((6, 2), np.nan), 0, 10 * MS)
    assert "stamped" in ctl.on_plan(straight(3.0), 0, 5 * NS_PER_S)
    assert ctl.step(50 * MS).speed == pytest.approx(10.0)


def test_without_any_plan_the_car_is_held():
    ctl = TrajectoryController(ControllerConfig())
    ctl.on_odometry(EgoState(stamp_ns=0, speed=0.0))
    cmd = ctl.step(50 * MS)
    assert cmd.mode == MODE_STOPPING and cmd.throttle == 0 and cmd.brake > 0 and cmd.speed == 0


def test_plan_anchored_at_its_stamp_pose():
    """A plan computed at an older pose is tracked in the world frame, not re-applied at the new pose."""
    ctl = TrajectoryController(ControllerConfig())
    ctl.on_odometry(EgoState(stamp_ns=0, x=0.0, y=0.0, speed=8.0))
    ctl.on_odometry(EgoState(stamp_ns=100 * MS, x=0.8, y=0.5, speed=8.0))  # drifted left
    assert ctl.on_plan(straight(8.0), 0, 100 * MS) is None
    assert ctl.step(120 * MS).steering_angle < 0.0, "must steer back right to the plan"


def test_config_rejects_a_timeout_shorter_than_a_period():
    with pytest.raises(ConfigError, match="plan_timeout_s"):
        ControllerConfig(rate_hz=2.0)
