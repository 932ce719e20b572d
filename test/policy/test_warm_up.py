"""Warm start (issue 21, item 1): `warm_up` runs the model once on a dummy and leaves no trace."""

import numpy as np
import pytest
from tiny_bundle_builder import build_tiny_bundle

from vla_driving.constants import NS_PER_S
from vla_driving.policy.factory import make_policy
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.types import EgoState, Observation

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny"))


def drive(policy, steps=4):
    """Observations of a car moving at 5 m/s, one per 0.5 s (the ego history matters)."""
    rng = np.random.default_rng(1)
    for i in range(steps):
        stamp = int((3.0 + 0.5 * i) * NS_PER_S)
        images = rng.integers(0, 255, (policy.num_frames, len(policy.cameras), 48, 48, 3),
                              dtype=np.uint8)
        yield Observation(stamp, images, policy.cameras,
                          EgoState(stamp, x=2.5 * i, speed=5.0, yaw_rate=0.05),
                          instruction="turn left at the next junction")


def test_a_warmed_up_policy_plans_exactly_as_a_cold_one(bundle):
    from vla_driving.policy.vla_policy import VlaPolicy

    cold, warm = VlaPolicy.from_bundle(bundle), VlaPolicy.from_bundle(bundle)
    assert warm.warm_up() > 0.0
    assert warm.history._states == [] and warm._last_cut is None
    for a, b in zip(drive(cold), drive(warm)):
        pa, pb = cold.infer(a), warm.infer(b)
        np.testing.assert_array_equal(pa.waypoints, pb.waypoints)
        assert pa.controls == pb.controls and pa.meta_action == pb.meta_action
    assert cold.history._states == warm.history._states


def test_the_factory_warms_up_without_counting_or_recording(bundle, tmp_path):
    record = tmp_path / "plans.jsonl"
    policy = make_policy(PlannerConfig(bundle=str(bundle), text_period_s=1.0,
                                       record_path=str(record)))
    try:
        assert policy.warm_up_s > 0.0
        stats = policy.text_stats()
        assert stats.requested == 0 and stats.last_rejection == ""
        assert policy.take_text() == [] and record.read_text() == ""
        assert policy.inner.records == []
    finally:
        policy.close()


def test_without_a_model_there_is_nothing_to_warm():
    policy = make_policy(PlannerConfig(policy="constant_velocity"))
    try:
        assert policy.warm_up_s == 0.0
    finally:
        policy.close()
    assert make_policy(PlannerConfig(policy="constant_velocity"), warm_up=False).warm_up_s == 0.0
