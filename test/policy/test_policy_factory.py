"""make_policy: baseline, recording, and the reasons a bundle cannot be used (no torch needed)."""

import json
from pathlib import Path

import numpy as np
import pytest

from vla_driving.policy.base import PolicyUnavailableError
from vla_driving.policy.factory import make_policy
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.types import EgoState, Observation


def test_baseline_with_recording(tmp_path):
    path = tmp_path / "plans.jsonl"
    policy = make_policy(PlannerConfig(policy="constant_velocity", record_path=str(path)))
    try:
        obs = Observation(5, np.zeros((1, 2, 4, 4, 3), np.uint8), ("bev_near", "bev_far"),
                          EgoState(5, speed=3.0))
        plan = policy.infer(obs)
        assert plan.bundle_id == "constant_velocity"
    finally:
        policy.close()
    line = json.loads(path.read_text().splitlines()[0])
    assert line["stamp_ns"] == 5 and line["plan"]["waypoints"][0] == [1.5, 0.0]


@pytest.mark.parametrize("make, reason", [
    (lambda p: p / "absent", "model bundle not found"),
    (lambda p: p, "no manifest.json"),
])
def test_unusable_bundles_name_the_reason(tmp_path, make, reason):
    with pytest.raises(PolicyUnavailableError, match=reason):
        make_policy(PlannerConfig(bundle=str(make(tmp_path))))


def test_a_manifest_of_another_format_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(PolicyUnavailableError, match="not a vla_driving bundle"):
        make_policy(PlannerConfig(bundle=str(tmp_path)))


def test_the_configured_device_reaches_the_bundle_loader():
    """`engine.device: cuda` on a machine without a GPU fails configure with the reason."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("needs a machine without a GPU")
    root = Path(__file__).resolve().parents[2] / "models" / "default"
    cfg = PlannerConfig.from_dict({"bundle": str(root), "engine": {"device": "cuda"}})
    with pytest.raises(PolicyUnavailableError, match="'cuda': no CUDA GPU is visible"):
        make_policy(cfg)


def test_camera_mismatch_names_the_views_the_profile_lacks():
    from vla_driving.policy.factory import camera_mismatch

    assert camera_mismatch(("front", "bev_near"), ("front", "bev_near")) == ""
    assert camera_mismatch((), ("front",)) == ""
    assert camera_mismatch(("front", "front_left"), ("bev_near", "front")) == (
        "the bundle expects cameras ['front', 'front_left']; the profile's ingest.cameras "
        "['bev_near', 'front'] lacks 'front_left'")
    assert "in this order" in camera_mismatch(("a", "b"), ("b", "a"))
