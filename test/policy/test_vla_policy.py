"""`VlaPolicy` on a real tiny bundle (untrained weights): plans, latencies, fail-closed output."""

import shutil

import numpy as np
import pytest
from tiny_bundle_builder import build_tiny_bundle

from vla_driving.constants import NS_PER_S, NUM_WAYPOINTS
from vla_driving.policy.base import MalformedOutputError, PolicyError, PolicyUnavailableError
from vla_driving.policy.factory import make_policy
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.types import EgoState, Observation

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def policy(bundle):
    from vla_driving.policy.vla_policy import VlaPolicy
    return VlaPolicy.from_bundle(bundle)


def observation(policy, t_s=1.0, frames=4, speed=6.0):
    stamp = int(t_s * NS_PER_S)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (frames, len(policy.cameras), 48, 48, 3), dtype=np.uint8)
    return Observation(stamp, images, policy.cameras, EgoState(stamp, speed=speed),
                       instruction="keep the current lane")


def test_infer_gives_a_stamped_plan_with_stage_latencies(policy):
    plan = policy.infer(observation(policy, frames=1))   # fewer frames than the model: padded
    assert plan.stamp_ns == NS_PER_S and plan.waypoints.shape == (NUM_WAYPOINTS, 2)
    assert plan.bundle_id.startswith("tiny@") and 0.0 < plan.confidence <= 1.0
    assert {"encoder", "llm_head"} <= set(plan.latency_s)
    again = policy.infer(observation(policy, frames=1))
    np.testing.assert_array_equal(plan.waypoints, again.waypoints)


def test_wrong_cameras_are_refused(policy):
    obs = observation(policy)
    bad = Observation(obs.stamp_ns, obs.images, ("front", "back"), obs.ego)
    with pytest.raises(PolicyError, match="do not match"):
        policy.infer(bad)


def test_untrained_text_fails_the_strict_parser(policy):
    with pytest.raises(MalformedOutputError, match="text plan rejected"):
        policy.describe(observation(policy))


def test_nan_head_output_raises_instead_of_planning(bundle):
    import torch

    from vla_driving.policy.vla_policy import VlaPolicy
    broken = VlaPolicy.from_bundle(bundle)
    with torch.no_grad():
        broken.bundle.model.head.mlp[-1].bias.fill_(float("nan"))
    with pytest.raises(MalformedOutputError, match="NaN"):
        broken.infer(observation(broken))


def test_factory_reasons_for_unusable_bundles(bundle, tmp_path):
    cfg = PlannerConfig(bundle=str(bundle), ingest={"cameras": ["front", "back"]})
    with pytest.raises(PolicyUnavailableError, match="expects cameras") as err:
        make_policy(cfg)
    assert "ingest.cameras ['front', 'back'] lacks '" in str(err.value)    # names the view
    assert "\n" not in str(err.value)
    altered = tmp_path / "altered"
    shutil.copytree(bundle, altered)
    weights = altered / "policy.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(PolicyUnavailableError, match="altered"):
        make_policy(PlannerConfig(bundle=str(altered)))
    policy = make_policy(PlannerConfig(bundle=str(bundle)))
    try:
        assert policy.bundle_id.startswith("tiny@")
    finally:
        policy.close()
