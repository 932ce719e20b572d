"""Constant-velocity baseline and the policy wrappers, on plain observations."""

import json
import threading
import time

import numpy as np
import pytest

from vla_driving.constants import NS_PER_S, NUM_WAYPOINTS, WAYPOINT_DT_S
from vla_driving.policy.base import DrivingPolicy, MalformedOutputError, SceneText
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.policy.text_scheduler import TextScheduled
from vla_driving.policy.wrappers import HoldLastPlan, RateLimited, Recorder
from vla_driving.types import EgoState, Observation


def obs(t_s=0.0, speed=10.0, yaw_rate=0.0, want_text=False):
    stamp = int(t_s * NS_PER_S)
    return Observation(stamp_ns=stamp, images=np.zeros((1, 2, 8, 8, 3), np.uint8),
                       cameras=("bev_near", "bev_far"),
                       ego=EgoState(stamp_ns=stamp, speed=speed, yaw_rate=yaw_rate),
                       instruction="keep the current lane", want_text=want_text)


def test_constant_velocity_extrapolates_straight_and_on_an_arc():
    plan = ConstantVelocityPolicy().infer(obs(1.5, speed=10.0, yaw_rate=0.2))
    assert plan.stamp_ns == int(1.5 * NS_PER_S)
    np.testing.assert_allclose(plan.waypoints[:, 0], 10.0 * WAYPOINT_DT_S * np.arange(1, 7))
    assert np.all(plan.waypoints[:, 1] == 0) and plan.meta_action.steering == "straight"
    arc = ConstantVelocityPolicy(use_yaw_rate=True).infer(obs(speed=10.0, yaw_rate=0.2))
    steps = np.linalg.norm(np.diff(np.vstack([[0, 0], arc.waypoints]), axis=0), axis=1)
    assert np.all(steps < 10.0 * WAYPOINT_DT_S + 1e-9) and np.all(steps > 4.9)
    assert arc.waypoints[-1, 1] > 0 and arc.meta_action.steering == "turn_left"
    assert arc.controls.steering_angle > 0


def test_constant_velocity_at_standstill_is_idle():
    plan = ConstantVelocityPolicy().infer(obs(speed=0.0))
    assert np.all(plan.waypoints == 0) and plan.meta_action.steering == "idle"
    assert plan.waypoints.shape == (NUM_WAYPOINTS, 2)


class Flaky(DrivingPolicy):
    """A policy that fails on demand (test double for a model whose output fails parsing)."""

    def __init__(self):
        self.calls = 0
        self.fail = False
        self.inner = ConstantVelocityPolicy()

    def infer(self, observation):
        self.calls += 1
        if self.fail:
            raise MalformedOutputError("waypoints had 5 rows")
        return self.inner.infer(observation)


def test_rate_limited_reuses_the_last_plan_inside_the_period():
    inner = Flaky()
    policy = RateLimited(inner, min_period_s=0.5)
    first = policy.infer(obs(0.0))
    assert policy.infer(obs(0.3)) is first and inner.calls == 1
    assert policy.infer(obs(0.6)).stamp_ns == int(0.6 * NS_PER_S) and inner.calls == 2


def test_hold_last_plan_bounds_the_hold():
    inner = Flaky()
    policy = HoldLastPlan(inner, max_hold_s=0.5)
    good = policy.infer(obs(0.0))
    inner.fail = True
    assert policy.infer(obs(0.4)) is good
    with pytest.raises(MalformedOutputError):
        policy.infer(obs(0.6))


def test_recorder_writes_plans_and_errors(tmp_path):
    inner = Flaky()
    path = tmp_path / "rec.jsonl"
    policy = Recorder(inner, path)
    policy.infer(obs(0.0))
    inner.fail = True
    with pytest.raises(MalformedOutputError):
        policy.infer(obs(0.1))
    policy.close()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert len(lines) == 2 and len(lines[0]["plan"]["waypoints"]) == NUM_WAYPOINTS
    assert "MalformedOutputError" in lines[1]["error"] and "plan" not in lines[1]


class SlowText(ConstantVelocityPolicy):
    """The baseline with a text head that takes `delay` s (stands in for slow LLM decoding)."""

    def __init__(self, delay):
        super().__init__()
        self.delay = delay
        self.release = threading.Event()

    def describe(self, observation):
        self.release.wait(self.delay)
        return SceneText(observation.stamp_ns, f"scene at {observation.stamp_ns}", "because")


def test_text_generation_never_delays_a_plan_and_keeps_only_the_latest():
    inner = SlowText(delay=5.0)
    policy = TextScheduled(inner, period_s=1.0)
    try:
        policy.infer(obs(0.0))
        deadline = time.monotonic() + 5.0
        while not policy.busy and time.monotonic() < deadline:
            time.sleep(0.005)
        start = time.perf_counter()
        for i in range(1, 20):
            policy.infer(obs(i * 0.1))   # text due at 0.0, 1.0, 2.0 while the worker is busy
        assert time.perf_counter() - start < 2.0, "plans waited for text generation"
        inner.release.set()
        deadline = time.monotonic() + 5.0
        texts = []
        while len(texts) < 2 and time.monotonic() < deadline:
            texts += policy.take_text()
            time.sleep(0.01)
        # first request (t=0) and the latest pending one (t=1.0); no backlog in between
        assert [t.stamp_ns for t in texts] == [0, int(1.0 * NS_PER_S)]
        assert texts[0].description == "scene at 0"
    finally:
        policy.close()


def test_text_on_request_only_with_zero_period():
    inner = SlowText(delay=0.0)
    inner.release.set()
    policy = TextScheduled(inner, period_s=0.0)
    try:
        policy.infer(obs(0.0))
        policy.infer(obs(0.1, want_text=True))
        deadline = time.monotonic() + 5.0
        texts = []
        while not texts and time.monotonic() < deadline:
            texts = policy.take_text()
            time.sleep(0.01)
        assert [t.stamp_ns for t in texts] == [int(0.1 * NS_PER_S)]
    finally:
        policy.close()
