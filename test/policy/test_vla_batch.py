"""`infer_batch` (open-loop replay's batched plans) gives what `infer` gives one at a time, on a
real tiny bundle (untrained, float32 LLM): prompts of different lengths are padded, the ego
history is recorded in order, and a rejected observation fails alone."""

import numpy as np
import pytest
from tiny_bundle_builder import build_tiny_bundle

from vla_driving.constants import NS_PER_S
from vla_driving.policy.base import PolicyError
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.types import EgoState, Observation

pytest.importorskip("torch")
WAYPOINT_TOL_M = 1e-5       # float32: the batch's matmuls may sum in another order, nothing more
INSTRUCTIONS = ["keep the current lane", "turn left at the next intersection and then stop",
                "go", "change to the right lane when it is safe to do so"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny"))


def _policy(bundle):
    from vla_driving.policy.vla_policy import VlaPolicy
    return VlaPolicy.from_bundle(bundle)


def _observations(cameras, n=10):
    """A drive at 5 m/s with a slow turn, 0.5 s apart (so the ego history reaches back), one
    instruction per frame (prompts of several lengths)."""
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        t = 0.5 * (i + 1)
        stamp = int(t * NS_PER_S)
        ego = EgoState(stamp, x=5.0 * t, y=0.1 * t * t, yaw=0.04 * t, speed=5.0 + 0.2 * i,
                       yaw_rate=0.04)
        images = rng.integers(0, 255, (2, len(cameras), 40, 40, 3), dtype=np.uint8)
        out.append(Observation(stamp, images, cameras, ego, INSTRUCTIONS[i % 4],
                               frame_stamps_ns=(stamp - NS_PER_S // 2, stamp)))
    return out


def test_batched_plans_equal_sequential_ones(bundle):
    one, batched = _policy(bundle), _policy(bundle)
    assert batched.batches
    observations = _observations(one.cameras)
    lengths = {len(one._inputs(o, record=False).prompts[0]) for o in observations}
    assert len(lengths) >= 3                       # the batch really is padded
    plans = [one.infer(o) for o in observations]
    together = batched.infer_batch(observations)
    assert len(together) == len(plans)
    for a, b in zip(plans, together):
        assert b.stamp_ns == a.stamp_ns and b.bundle_id == a.bundle_id
        np.testing.assert_allclose(b.waypoints, a.waypoints, rtol=0, atol=WAYPOINT_TOL_M)
        np.testing.assert_allclose(b.controls.as_array(), a.controls.as_array(), atol=1e-5)
        assert b.meta_action == a.meta_action
        assert b.instruction_completed == a.instruction_completed
        assert b.confidence == pytest.approx(a.confidence, abs=1e-5)
        assert {"encoder_per_frame_batched", "llm_head_per_frame_batched"} <= set(b.latency_s)
        assert "encoder" not in b.latency_s            # no batch time passes for one plan's
    # the history was recorded in order: the next plan is the sequential one too
    nxt = _observations(one.cameras, 11)[-1]
    np.testing.assert_allclose(batched.infer(nxt).waypoints, one.infer(nxt).waypoints,
                               rtol=0, atol=WAYPOINT_TOL_M)


def test_a_rejected_observation_fails_alone(bundle):
    policy, reference = _policy(bundle), _policy(bundle)
    good = _observations(policy.cameras, 3)
    bad = Observation(good[1].stamp_ns, good[1].images, ("front", "back"), good[1].ego)
    out = policy.infer_batch([good[0], bad, good[2]])
    assert isinstance(out[1], PolicyError) and "do not match" in str(out[1])
    reference.infer(good[0])
    with pytest.raises(PolicyError):
        reference.infer(bad)
    np.testing.assert_allclose(out[2].waypoints, reference.infer(good[2]).waypoints, atol=1e-5)


def test_the_default_batch_is_a_loop_over_infer():
    policy = ConstantVelocityPolicy()
    assert not policy.batches
    observations = _observations(("bev_near", "bev_far"), 3)
    plans = policy.infer_batch(observations)
    for obs, plan in zip(observations, plans):
        np.testing.assert_array_equal(plan.waypoints, policy.infer(obs).waypoints)

    class Failing(ConstantVelocityPolicy):
        def infer(self, observation):
            if observation.stamp_ns == observations[1].stamp_ns:
                raise PolicyError("no")
            return super().infer(observation)

    out = Failing().infer_batch(observations)
    assert isinstance(out[1], PolicyError) and out[0].stamp_ns == observations[0].stamp_ns
