"""Meta-action rules on hand-built future trajectories, one per class, and their layering."""

import numpy as np
import pytest

from vla_driving.data.label_config import LabelConfig
from vla_driving.data.meta_rules import arc_residual, meta_action, speed_level, steering_level
from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS

CFG = LabelConfig()
T = 0.5 * np.arange(1, 7)


def straight(v=10.0):
    return np.stack([v * T, np.zeros_like(T)], 1)


def arc(v=8.0, yaw_rate=0.3):
    r = v / yaw_rate
    a = yaw_rate * T
    return np.stack([r * np.sin(a), r * (1 - np.cos(a))], 1), float(a[-1])


def lane_change(v=20.0, width=3.5, sign=1):
    s = np.clip(T / 3.0, 0, 1)
    return np.stack([v * T, sign * width * (3 * s**2 - 2 * s**3)], 1)


@pytest.mark.parametrize("accel, level", [(2.5, "quick_accelerate"), (0.8, "accelerate"),
                                          (0.0, "constant_speed"), (0.2, "constant_speed"),
                                          (-0.8, "decelerate"), (-3.0, "quick_decelerate")])
def test_speed_levels(accel, level):
    assert speed_level(accel, CFG) == level


def test_every_steering_class_from_a_trajectory():
    left, dpsi = arc(yaw_rate=0.3)
    right, dpsi_r = arc(yaw_rate=-0.3)
    cases = {
        "idle": meta_action(0.0, 0.0, np.zeros((6, 2)) + [[0.01, 0.0]], 0.0, CFG),
        "straight": meta_action(10.0, 0.0, straight(), 0.0, CFG),
        "turn_left": meta_action(8.0, 0.0, left, dpsi, CFG),
        "turn_right": meta_action(8.0, 0.0, right, dpsi_r, CFG),
        "shift_left": meta_action(20.0, 0.0, lane_change(sign=1), 0.0, CFG),
        "shift_right": meta_action(20.0, 0.0, lane_change(sign=-1), 0.0, CFG),
    }
    assert {k: v.steering for k, v in cases.items()} == {k: k for k in STEERING_LEVELS}
    assert set(SPEED_LEVELS) == {speed_level(a, CFG) for a in (3, 1, 0, -1, -3)}


def test_gentle_highway_curve_is_straight_not_a_shift():
    # 30 m/s on a 2 km radius curve: 1.2 m of lateral offset after 3 s, all of it the arc's
    traj, dpsi = arc(v=30.0, yaw_rate=30.0 / 2000.0)
    assert traj[-1, 1] > CFG.shift_offset_m
    assert abs(arc_residual(traj[-1], dpsi)) < 0.05
    assert meta_action(30.0, 0.0, traj, dpsi, CFG).steering == "straight"


def test_layers_idle_beats_turn_and_turn_beats_shift():
    # standing still while the heading is said to change: idle wins
    assert steering_level(0.1, 0.2, 1.0, (0.2, 0.0), CFG) == "idle"
    # a big heading change with a big offset is a turn, not a shift
    assert steering_level(8.0, 24.0, 0.9, (18.0, 8.0), CFG) == "turn_left"
    # a slow creep that covers distance is not idle
    assert steering_level(0.2, 3.0, 0.0, (3.0, 0.0), CFG) == "straight"


def test_thresholds_come_from_the_config():
    lenient = LabelConfig(shift_offset_m=5.0)
    assert meta_action(20.0, 0.0, lane_change(), 0.0, lenient).steering == "straight"
    assert speed_level(0.5, LabelConfig(accel_threshold=1.0, quick_accel_threshold=2.0)) == \
        "constant_speed"


def test_lateral_acceleration_of_an_arc_is_speed_times_yaw_rate():
    from vla_driving.data.meta_rules import lateral_acceleration
    wp, _ = arc(v=10.0, yaw_rate=0.3)                 # a_lat = v * yaw_rate = 3 m/s^2 (left)
    a = lateral_acceleration(wp, 10.0)
    # interior points (central differences on 0.5 s samples): within 2 % of 3.0
    np.testing.assert_allclose(a[1:-1], 3.0, rtol=0.02)
    right, _ = arc(v=10.0, yaw_rate=-0.3)
    assert lateral_acceleration(right, 10.0)[3] == pytest.approx(-a[3])
    assert np.abs(lateral_acceleration(straight(), 10.0)).max() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("yaw_rate, level", [(0.1, "slightly"), (0.2, "moderately"),
                                             (0.4, "rapidly")])
def test_lateral_level_thresholds(yaw_rate, level):
    from vla_driving.data.meta_rules import lateral_level
    wp, _ = arc(v=10.0, yaw_rate=yaw_rate)             # 1, 2, 4 m/s^2 (defaults: 1.5 and 3)
    assert lateral_level(wp, 10.0, CFG) == level
    assert lateral_level(wp, 10.0, LabelConfig(lateral_moderate_accel=0.2,
                                                lateral_rapid_accel=0.4)) == "rapidly"


def test_lateral_level_of_a_lane_change_and_of_an_incomplete_plan():
    from vla_driving.data.meta_rules import lateral_level
    # 3.5 m in 3 s on a cubic: peak lateral acceleration 6 * 3.5 / 3^2 = 2.33 m/s^2 (2.14
    # sampled every 0.5 s); 1 m: 0.61 m/s^2
    assert lateral_level(lane_change(), 20.0, CFG) == "moderately"
    assert lateral_level(lane_change(width=1.0), 20.0, CFG) == "slightly"
    partial = straight()
    partial[3:] = np.nan
    with pytest.raises(ValueError):
        lateral_level(partial, 10.0, CFG)


def test_meta_types_vocabulary():
    from vla_driving.meta_action import (LATERAL_LEVELS, LATERAL_STEERING, META_TYPES, MetaAction,
                                         meta_type)
    assert len(META_TYPES) == 1 + len(SPEED_LEVELS) * (1 + len(LATERAL_STEERING)
                                                        * len(LATERAL_LEVELS)) == 66
    assert len(set(META_TYPES)) == len(META_TYPES)
    assert meta_type(MetaAction("accelerate", "idle"), None) == "idle"
    assert meta_type(MetaAction("decelerate", "straight"), "rapidly") == "decelerate/straight"
    t = meta_type(MetaAction("constant_speed", "shift_left"), "moderately")
    assert t == "constant_speed/shift_left/moderately" and t in META_TYPES
    with pytest.raises(ValueError):
        meta_type(MetaAction("constant_speed", "turn_right"), None)
    with pytest.raises(Exception):
        LabelConfig(lateral_moderate_accel=2.0, lateral_rapid_accel=1.0)
