"""The evaluation on a real (untrained) tiny bundle: replay is deterministic with the model,
malformed scene text is counted and never scored, and the model drives a closed-loop route
through the nodes. The bundle is built once (~20 s on 2 cores) by the policy tests' builder."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from eval_bag_fixtures import write_bag
from vla_driving.data import read_bag
from vla_driving.apps import eval_closed_loop
from vla_driving.evaluation.policies import load_model_policy
from vla_driving.evaluation.replay import ReplayConfig, replay_policy
from vla_driving.evaluation.summary import summarise

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    pytest.importorskip("torch")
    from tiny_bundle_builder import build_tiny_bundle
    return build_tiny_bundle(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    return read_bag(write_bag(tmp_path_factory.mktemp("bag") / "b", seconds=4.0))


def test_the_models_torch_threads_are_set_when_asked(tiny_bundle):
    """`EngineConfig.torch_threads` (replay's default 1): on a shared CPU a second torch thread
    made each plan several times slower. 0 leaves torch's own setting alone."""
    import torch

    before = torch.get_num_threads()
    try:
        load_model_policy(str(tiny_bundle), 0).close()
        assert torch.get_num_threads() == before
        load_model_policy(str(tiny_bundle), 1).close()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_model_replay_is_deterministic(tiny_bundle, bag):
    cfg = ReplayConfig(max_frames=6, text_every=6)
    runs = []
    for _ in range(2):
        policy = load_model_policy(str(tiny_bundle))
        runs.append(replay_policy(bag, policy, cfg))
        policy.close()
    a, b = (np.stack([s.plan.waypoints for s in r.samples]) for r in runs)
    assert a.shape == (6, 6, 2) and np.array_equal(a, b)
    assert [s.plan.meta_action for s in runs[0].samples] == \
        [s.plan.meta_action for s in runs[1].samples]
    metrics = summarise(runs[0].samples)
    assert metrics["drops"]["plans"] == 6
    # the untrained model's text fails the strict parser: counted, not scored
    assert metrics["drops"]["text_rejected"] + metrics["description"]["samples"] == 1


@pytest.mark.ros
def test_model_drives_a_closed_loop_route(tiny_bundle, tmp_path):
    parser = argparse.ArgumentParser()
    eval_closed_loop.add_arguments(parser)
    args = parser.parse_args(["--bundle", str(tiny_bundle), "--seeds", "1000", "--duration", "3",
                              "--no-expert", "--json", str(tmp_path / "cl.json")])
    assert eval_closed_loop.main(args) == 0
    doc = json.loads((tmp_path / "cl.json").read_text())
    route = doc["results"]["clean"]["model"]["routes"][0]
    assert route["finished"] and route["control_timeouts"] == 0
