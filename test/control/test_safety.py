"""Safety of the control path on plain numbers (issue 19, items 1-4): absurd but finite odometry is
refused, a future stamp cannot freeze the planner or the controller, a stop ramps the command to
zero, every command stays inside the vehicle's limits, and invalid trajectories are rejected."""

import numpy as np
import pytest

from vla_driving.constants import NS_PER_S, WAYPOINT_DT_S
from vla_driving.control.config import ControllerConfig
from vla_driving.control.controller import MODE_STOPPING, MODE_TRACKING, TrajectoryController
from vla_driving.control.validator import (CHECK_CURVATURE, CHECK_DEVIATION, CHECK_FINITE,
                                           CHECK_INTERVAL, CHECK_JERK, CHECK_LATERAL_ACC,
                                           CHECK_LONGITUDINAL_ACC, CHECK_RELATIVE_ANGLE,
                                           CHECK_SPEED, ValidatorConfig, validate_trajectory)
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.policy.planner import STATUS_ERROR, STATUS_OK, PlannerCore
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.sensors import Ingest, RawImage
from vla_driving.sensors.ingest import REASON_FUTURE
from vla_driving.sensors.odometry import (REASON_BAD_QUATERNION, REASON_OUT_OF_BOUNDS,
                                          OdometryError, OdometryFields, ego_from_odometry)
from vla_driving.types import EgoState

MS = NS_PER_S // 1000
DAY = 86_400 * NS_PER_S


def odom(stamp_ns, vx=5.0, **kw):
    values = dict(stamp_ns=stamp_ns, x=0.0, y=0.0, qx=0.0, qy=0.0, qz=0.0, qw=1.0, vx=vx, vy=0.0,
                  yaw_rate=0.0)
    values.update(kw)
    return OdometryFields(**values)


def straight(speed, n=6):
    return np.stack([speed * WAYPOINT_DT_S * np.arange(1, n + 1), np.zeros(n)], axis=1)


def with_origin(wp):
    return np.vstack([[0.0, 0.0], wp])


# -- 1. physical bounds ------------------------------------------------------------------------
@pytest.mark.parametrize("field, value, reason", [
    ("vx", 1e30, REASON_OUT_OF_BOUNDS), ("vy", -500.0, REASON_OUT_OF_BOUNDS),
    ("yaw_rate", 3.5e28, REASON_OUT_OF_BOUNDS), ("x", 1e12, REASON_OUT_OF_BOUNDS),
    ("qw", 0.0, REASON_BAD_QUATERNION)])
def test_absurd_odometry_is_refused_with_a_reason(field, value, reason):
    with pytest.raises(OdometryError) as err:
        ego_from_odometry(odom(0, **{field: value}))
    assert err.value.reason == reason


def test_commands_stay_inside_the_vehicle_limits_whatever_the_ego_says():
    cfg = ControllerConfig()
    ctl = TrajectoryController(cfg)
    ctl.on_odometry(EgoState(stamp_ns=0, speed=1e30, yaw_rate=1e28))
    ctl.on_plan(straight(10.0), 0, 0)
    for i in range(1, 40):
        cmd = ctl.step(50 * MS * i)
        v = cfg.vehicle
        assert 0.0 <= cmd.speed <= v.max_speed_m_s
        assert abs(cmd.steering_angle) <= v.max_steer_angle_rad
        assert abs(cmd.steering_rate) <= v.max_steer_rate_rad_s
        assert -v.max_decel_m_s2 <= cmd.acceleration <= v.max_accel_m_s2
        assert 0.0 <= cmd.throttle <= cfg.max_throttle and 0.0 <= cmd.brake <= 1.0


# -- 2. future stamps --------------------------------------------------------------------------
def test_a_future_frame_is_refused_and_does_not_block_later_frames():
    ingest = Ingest(PlannerConfig(policy="constant_velocity", ingest={"cameras": ["a"]}).ingest)
    img = RawImage(4, 4, "rgb8", 12, bytes(48))
    now = 10 * NS_PER_S
    assert ingest.on_image("a", img, now + 11 * DAY, now).reason == REASON_FUTURE
    assert ingest.on_odometry(odom(now + 11 * DAY), now).reason == REASON_FUTURE
    assert ingest.on_image("a", img, now, now + MS) is None
    assert ingest.on_odometry(odom(now), now + MS) is None


def test_planner_goes_stale_on_its_own_clock_even_for_frames_stamped_ahead():
    cfg = PlannerConfig(policy="constant_velocity", ingest={"cameras": ["a"], "max_future_s": 0.4})
    pc = PlannerCore(cfg, ConstantVelocityPolicy(), Ingest(cfg.ingest))
    now = 10 * NS_PER_S
    pc.ingest.on_odometry(odom(now), now)
    pc.ingest.on_image("a", RawImage(4, 4, "rgb8", 12, bytes(48)), now + 300 * MS, now)
    pc.ingest.poll(now)
    assert pc.cycle(now + 10 * MS).status == STATUS_OK
    # input stops: within max_input_age_s of receipt the planner must stop reporting ok
    late = pc.cycle(now + 600 * MS)
    assert late.status == STATUS_ERROR and "stale" in late.error


def test_controller_refuses_plans_and_odometry_from_the_future():
    ctl = TrajectoryController(ControllerConfig())
    now = 10 * NS_PER_S
    assert "future" in ctl.on_odometry(EgoState(stamp_ns=now + DAY), now)
    assert ctl.on_odometry(EgoState(stamp_ns=now, speed=5.0), now) is None
    assert "future" in ctl.on_plan(straight(5.0), now + 11 * DAY, now)


def test_odometry_age_counts_from_receipt_too():
    """A stamp slightly ahead (within the bound) must not keep odometry fresh after it stops."""
    ctl = TrajectoryController(ControllerConfig())
    now = 10 * NS_PER_S
    ctl.on_odometry(EgoState(stamp_ns=now + 400 * MS, speed=5.0), now)
    assert "odometry stale" in ctl.step(now + 500 * MS).reason


# -- 3. a stop that stops ----------------------------------------------------------------------
def test_stop_with_stale_odometry_ramps_the_command_to_zero_and_stays_there():
    cfg = ControllerConfig()
    ctl = TrajectoryController(cfg)
    ctl.on_odometry(EgoState(stamp_ns=0, speed=9.9), 0)
    assert ctl.on_plan(straight(10.0), 0, 0) is None
    assert ctl.step(50 * MS).mode == MODE_TRACKING
    speeds = [ctl.step(50 * MS * i).speed for i in range(2, 200)]   # odometry never comes again
    decel = cfg.watchdog.comfort_decel_m_s2
    steps = np.diff(speeds)
    assert np.all(steps <= 1e-9) and np.all(steps >= -decel * 0.05 - 1e-9)
    assert speeds[-1] == 0.0
    zero_at = speeds.index(0.0) * 0.05
    assert zero_at <= 10.0 / decel + 0.5


# -- 4. trajectory validator -------------------------------------------------------------------
CFG = ValidatorConfig()


def test_valid_straight_and_gentle_arc_pass():
    assert validate_trajectory(with_origin(straight(10.0)), CFG).ok
    s = 8.0 * WAYPOINT_DT_S * np.arange(1, 7)
    arc = np.stack([30 * np.sin(s / 30), 30 * (1 - np.cos(s / 30))], axis=1)
    assert validate_trajectory(with_origin(arc), CFG, np.zeros(2)).ok
    assert validate_trajectory(np.zeros((7, 2)), CFG).ok   # standing still


def _failed(points, ego=None):
    return {name for name, _ in validate_trajectory(points, CFG, ego).failed}


def test_each_check_fires():
    assert _failed(np.array([[0, 0], [np.nan, 1.0]])) == {CHECK_FINITE}
    assert CHECK_INTERVAL in _failed(with_origin(straight(60.0)))
    assert CHECK_SPEED in _failed(with_origin(straight(50.0)))
    zigzag = with_origin(np.array([[1.0, 0], [1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [3, 2], [3, 3]]))
    assert CHECK_CURVATURE in _failed(zigzag)
    s = 20.0 * WAYPOINT_DT_S * np.arange(1, 7)   # 20 m/s on a 20 m radius: 20 m/s^2
    fast_turn = with_origin(np.stack([20 * np.sin(s / 20), 20 * (1 - np.cos(s / 20))], axis=1))
    assert _failed(fast_turn) == {CHECK_LATERAL_ACC}
    back = with_origin(np.array([[5.0, 0], [0.0, 0.1], [5.0, 0.2], [0, 0.3], [5, 0.4], [0, 0.5]]))
    assert CHECK_RELATIVE_ANGLE in _failed(back)
    speeds = np.array([1.0, 12.0, 1.0, 12.0, 1.0, 12.0])
    jumpy = with_origin(np.stack([np.cumsum(speeds * WAYPOINT_DT_S), np.zeros(6)], axis=1))
    assert {CHECK_LONGITUDINAL_ACC, CHECK_JERK} <= _failed(jumpy)
    assert _failed(with_origin(straight(10.0)), np.array([0.0, 500.0])) == {CHECK_DEVIATION}


def test_invalid_plan_is_rejected_the_last_valid_one_kept_then_a_stop():
    cfg = ControllerConfig()
    ctl = TrajectoryController(cfg)
    for i in range(12):
        ctl.on_odometry(EgoState(stamp_ns=50 * MS * i, x=0.5 * i, speed=10.0), 50 * MS * i)
    assert ctl.on_plan(straight(10.0), 0, 0) is None
    why = ctl.on_plan(straight(60.0), 100 * MS, 100 * MS)
    assert why.startswith("invalid trajectory") and ctl.invalid_plans[CHECK_SPEED] == 1
    cmd = ctl.step(150 * MS)
    assert cmd.mode == MODE_TRACKING and cmd.speed == pytest.approx(10.0)  # the last valid plan
    late = ctl.step(500 * MS)  # past plan_timeout_s since the last valid plan
    assert late.mode == MODE_STOPPING and "plan timeout" in late.reason
