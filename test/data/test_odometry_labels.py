"""Odometry -> labels on synthetic tracks whose answers are known in closed form."""

import numpy as np
import pytest

from vla_driving.constants import NS_PER_S
from vla_driving.data.label_config import LabelConfig
from vla_driving.data.labels import OdomTrack, labels_at

CFG = LabelConfig()
RATE_HZ = 40.0   # like the Autoware bag


def circle(radius=20.0, speed=10.0, duration=12.0, yaw0=0.7):
    t = np.arange(0.0, duration, 1 / RATE_HZ)
    w = speed / radius
    a = yaw0 + w * t
    x = radius * np.sin(a) - radius * np.sin(yaw0)
    y = -radius * np.cos(a) + radius * np.cos(yaw0)
    return OdomTrack.from_arrays((t * NS_PER_S).astype(np.int64) + 5, x, y, a,
                                 np.full_like(t, speed))


def test_circle_waypoints_controls_and_meta_action():
    r, v = 20.0, 10.0
    track = circle(r, v)
    lab = labels_at(track, int(4 * NS_PER_S) + 5, CFG)
    th = (v / r) * 0.5 * np.arange(1, 7)
    expect = np.stack([r * np.sin(th), r * (1 - np.cos(th))], 1)   # left turn, ego frame
    np.testing.assert_allclose(lab.waypoints, expect, atol=0.02)
    np.testing.assert_allclose(lab.ego, [v, v / r, 0.0], atol=1e-3)
    steer = np.arctan(CFG.wheelbase_m / r)
    np.testing.assert_allclose(lab.controls, [[v, steer, 0, 0], [v, steer, 0, 0]], atol=1e-3)
    past_th = -(v / r) * np.array([2.0, 1.5, 1.0, 0.5])
    np.testing.assert_allclose(lab.past, np.stack([r * np.sin(past_th),
                                                   r * (1 - np.cos(past_th))], 1), atol=0.02)
    assert (lab.meta.steering, lab.meta.speed) == ("turn_left", "constant_speed")


def test_straight_line_with_constant_acceleration():
    a, v0 = 1.0, 5.0
    t = np.arange(0.0, 10.0, 0.1)
    yaw = 2.0                               # driving north-west: the ego frame must undo it
    s = v0 * t + 0.5 * a * t**2
    track = OdomTrack.from_arrays((t * NS_PER_S).astype(np.int64), s * np.cos(yaw),
                                  s * np.sin(yaw), np.full_like(t, yaw), v0 + a * t)
    lab = labels_at(track, int(3 * NS_PER_S), CFG)
    v3 = v0 + 3 * a
    tt = 0.5 * np.arange(1, 7)
    np.testing.assert_allclose(lab.waypoints[:, 0], v3 * tt + 0.5 * a * tt**2, atol=0.05)
    np.testing.assert_allclose(lab.waypoints[:, 1], 0.0, atol=1e-6)
    np.testing.assert_allclose(lab.controls[:, 2], a, atol=1e-3)     # acceleration
    np.testing.assert_allclose(lab.controls[:, 1], 0.0, atol=1e-6)   # steering
    assert lab.controls[1, 0] == pytest.approx(v3 + a * CFG.next_control_dt_s, abs=1e-3)
    assert (lab.meta.steering, lab.meta.speed) == ("straight", "accelerate")


def test_speed_from_positions_when_odometry_has_no_twist():
    t = np.arange(0.0, 8.0, 0.1)
    track = OdomTrack.from_arrays((t * NS_PER_S).astype(np.int64), 7.0 * t, 0 * t, 0 * t)
    assert labels_at(track, int(2 * NS_PER_S), CFG).ego[0] == pytest.approx(7.0, abs=1e-3)


def test_no_label_past_the_end_or_across_a_gap():
    track = circle(duration=6.0)
    assert labels_at(track, int(4 * NS_PER_S), CFG) is None          # 3 s horizon not recorded
    t = np.concatenate([np.arange(0, 2, 0.1), np.arange(3, 10, 0.1)])   # 1 s hole at 2..3 s
    gap = OdomTrack.from_arrays((t * NS_PER_S).astype(np.int64), t, 0 * t, 0 * t)
    assert labels_at(gap, int(1 * NS_PER_S), CFG) is None
    assert labels_at(gap, int(5.5 * NS_PER_S), CFG) is not None   # past and future clear of it


def test_past_is_clamped_to_the_first_pose_at_episode_start():
    t = np.arange(0.0, 8.0, 0.1)
    track = OdomTrack.from_arrays((t * NS_PER_S).astype(np.int64), 4.0 * t, 0 * t, 0 * t)
    lab = labels_at(track, int(0.6 * NS_PER_S), CFG)
    np.testing.assert_allclose(lab.past[:, 0], [-2.4, -2.4, -2.4, -2.0], atol=1e-4)


def test_track_rejects_unsorted_stamps():
    with pytest.raises(ValueError, match="increasing"):
        OdomTrack.from_arrays([0, 2, 1], [0, 1, 2], [0, 0, 0], [0, 0, 0])


def test_sample_ego_is_what_the_planner_computes_not_the_look_ahead_label():
    """A brake 0.1 s after the frame: the central-difference label sees it, a running car cannot."""
    from vla_driving.data import BagData, OdomTrack
    from vla_driving.data.samples import build_samples
    from vla_driving.sensors.odometry import OdometryFields, ego_from_odometry

    t_ns = np.arange(0, 8_000_000_000, 100_000_000, dtype=np.int64)       # 10 Hz, 8 s
    t = t_ns / 1e9
    brake_at = 3.0
    speed = np.where(t < brake_at, 10.0, 10.0 - 2.0 * (t - brake_at))
    x = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * 0.1)])
    bag = BagData("synthetic", OdomTrack.from_arrays(t_ns, x, np.zeros_like(x), np.zeros_like(x),
                                                     speed), np.zeros_like(x))
    samples, _ = build_samples(bag, cameras=[])
    frame = next(s for s in samples if abs(s.stamp_ns - 2_900_000_000) < 1_000_000)
    assert frame.labels.controls[0, 2] < -0.2        # the label's acceleration looks ahead
    assert frame.labels.ego[2] == 0.0                 # the input only knows the past
    ego = None
    for k in range(len(t_ns)):
        ego = ego_from_odometry(OdometryFields(int(t_ns[k]), x[k], 0.0, 0.0, 0.0, 0.0, 1.0,
                                               speed[k], 0.0, 0.0), ego)
        if t_ns[k] == frame.stamp_ns + 500_000_000:
            break
    later = next(s for s in samples if s.stamp_ns == frame.stamp_ns + 500_000_000)
    np.testing.assert_allclose(later.labels.ego, [ego.speed, ego.yaw_rate, ego.acceleration],
                               rtol=1e-6)
    assert later.labels.ego[2] < -1.0


def test_future_waypoints_keep_the_recorded_part_of_the_future():
    from vla_driving.data.labels import future_waypoints
    t = np.arange(0.0, 10.0 + 1e-9, 0.1)                     # 10 m/s along x for 10 s
    track = OdomTrack.from_arrays((t * NS_PER_S).astype(np.int64), 10 * t, 0 * t, 0 * t)
    wp, valid = future_waypoints(track, int(8.8 * NS_PER_S), CFG)   # 1.2 s left: 2 steps
    assert valid.tolist() == [True, True, False, False, False, False]
    np.testing.assert_allclose(wp[:2], [[5.0, 0.0], [10.0, 0.0]], atol=1e-6)
    assert np.isnan(wp[2:]).all()
    assert labels_at(track, int(8.8 * NS_PER_S), CFG) is None      # no full label there
    assert future_waypoints(track, int(10 * NS_PER_S), CFG)[1].sum() == 0   # last frame
    assert future_waypoints(track, int(11 * NS_PER_S), CFG) is None         # past the track
    full = future_waypoints(track, int(2 * NS_PER_S), CFG)
    assert full[1].all()
    np.testing.assert_allclose(full[0], labels_at(track, int(2 * NS_PER_S), CFG).waypoints,
                               atol=1e-5)
    gap = np.concatenate([t[t < 5.0], t[t > 6.0]])                   # no odometry from 4.9 to 6.1 s
    gapped = OdomTrack.from_arrays((gap * NS_PER_S).astype(np.int64), 10 * gap, 0 * gap, 0 * gap)
    assert future_waypoints(gapped, int(3.5 * NS_PER_S), CFG)[1].tolist() == [True, True] + [False] * 4
