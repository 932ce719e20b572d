"""PlannerCore on plain frames: waiting, planning, input-age bound, failing closed."""

import pytest

from vla_driving.constants import NS_PER_S
from vla_driving.policy.base import DrivingPolicy, MalformedOutputError
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.policy.planner import (STATUS_DEGRADED, STATUS_ERROR, STATUS_OK, STATUS_WAITING,
                                        PlannerCore)
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.policy.planner_outputs import decision_json, parse_status, path_poses, status_json
from vla_driving.sensors import Ingest, RawImage
from vla_driving.sensors.odometry import OdometryFields

MS = NS_PER_S // 1000
CAMS = ["a", "b"]


def image(size=4):
    return RawImage(size, size, "rgb8", 3 * size, bytes(3 * size * size))


def odom(stamp_ns, speed=5.0):
    return OdometryFields(stamp_ns, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, speed, 0.0, 0.0)


def core(policy=None, **cfg):
    c = PlannerConfig(policy="constant_velocity", ingest={"cameras": CAMS}, **cfg)
    return PlannerCore(c, policy or ConstantVelocityPolicy(), Ingest(c.ingest))


def feed(pc, t_ns, cams=CAMS, size=4):
    pc.ingest.on_odometry(odom(t_ns), t_ns)
    for cam in cams:
        pc.ingest.on_image(cam, image(size), t_ns, t_ns)
    pc.ingest.poll(t_ns)


class Raises(DrivingPolicy):
    """Policies that fail: typed (malformed output) and untyped (a bug)."""

    def __init__(self, exc):
        self.exc = exc

    def infer(self, observation):
        raise self.exc


def test_waits_then_plans_stamped_with_the_image_time():
    pc = core()
    assert pc.cycle(10 * MS).status == STATUS_WAITING
    feed(pc, 100 * MS)
    result = pc.cycle(120 * MS)
    assert result.status == STATUS_OK and result.plan.stamp_ns == 100 * MS
    assert result.plan.waypoints[0, 0] == pytest.approx(2.5)
    poses = path_poses(result.plan)
    assert [p.stamp_ns - 100 * MS for p in poses] == [500 * MS * (i + 1) for i in range(6)]
    assert '"degraded": false' in decision_json(result.plan, False)


def test_missing_view_degrades_and_stale_input_is_an_error():
    pc = core(max_input_age_s=0.5)
    feed(pc, 100 * MS)
    feed(pc, 200 * MS, cams=["a"])
    pc.ingest.poll(300 * MS)
    result = pc.cycle(300 * MS)
    assert result.status == STATUS_OK and result.plan.stamp_ns == 200 * MS  # held, in bound
    feed(pc, 700 * MS, cams=["a"])                 # b's last frame is now beyond hold_max_s
    pc.ingest.poll(800 * MS)
    result = pc.cycle(800 * MS)
    assert result.status == STATUS_DEGRADED and result.plan.stamp_ns == 700 * MS
    result = pc.cycle(1300 * MS)
    assert result.status == STATUS_ERROR and "stale" in result.error and result.plan is None


@pytest.mark.parametrize("exc, kind", [(MalformedOutputError("5 waypoints"), "MalformedOutputError"),
                                       (RuntimeError("shape mismatch"), "unexpected RuntimeError")])
def test_policy_failures_fail_closed(exc, kind):
    pc = core(Raises(exc))
    feed(pc, 100 * MS)
    result = pc.cycle(110 * MS)
    assert result.status == STATUS_ERROR and result.plan is None and result.error.startswith(kind)
    assert pc.errors == 1


def test_views_of_different_sizes_are_an_error_not_a_crash():
    pc = core()
    pc.ingest.on_odometry(odom(100 * MS), 100 * MS)
    pc.ingest.on_image("a", image(4), 100 * MS, 100 * MS)
    pc.ingest.on_image("b", image(6), 100 * MS, 100 * MS)
    result = pc.cycle(110 * MS)
    assert result.status == STATUS_ERROR and "cannot stack" in result.error


def test_status_json_round_trip_fails_closed():
    assert parse_status(status_json(True, 5, None, 6)) == (True, "")
    assert parse_status(status_json(False, 5, "boom", 6)) == (False, "boom")
    ok, error = parse_status("{not json")
    assert not ok and "unreadable" in error
    assert parse_status('{"ok": "yes"}')[0] is False


class ReadsOldestAndNewest(ConstantVelocityPolicy):
    """Asks for two of the history's sets and keeps the observation it was given."""

    def history_frames(self, stamps_ns):
        self.offered = list(stamps_ns)
        return [0, len(stamps_ns) - 1]

    def infer(self, observation):
        self.seen = observation
        return super().infer(observation)


def test_only_the_sets_the_policy_reads_are_stacked_through_wrappers():
    from vla_driving.policy.wrappers import RateLimited

    inner = ReadsOldestAndNewest()
    pc = core(RateLimited(inner, 0.0))
    for k in range(1, 21):
        feed(pc, 100 * k * MS)
    assert pc.cycle(2000 * MS).status == STATUS_OK
    assert len(inner.offered) == pc.cfg.ingest.history == 16
    assert inner.seen.images.shape[0] == 2
    assert inner.seen.frame_stamps_ns == (500 * MS, 2000 * MS)
