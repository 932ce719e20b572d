"""Open-loop replay of small sqlite3 and MCAP bags through the real ingest and planning cycle."""

import argparse
import json

import numpy as np
import pytest

from eval_bag_fixtures import write_bag
from vla_driving.data import read_bag
from vla_driving.apps import eval_replay
from vla_driving.evaluation.replay import Corruption, ReplayConfig, replay_policy
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy


@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    root = tmp_path_factory.mktemp("bags")
    return {s: read_bag(write_bag(root / s, storage=s)) for s in ("sqlite3", "mcap")}


def _waypoints(run):
    return np.stack([s.plan.waypoints for s in run.samples])


def test_same_bag_same_output(bags):
    cfg = ReplayConfig()
    a = replay_policy(bags["sqlite3"], ConstantVelocityPolicy(), cfg)
    b = replay_policy(bags["sqlite3"], ConstantVelocityPolicy(), cfg)
    assert len(a.samples) == 60    # one cycle per synchronised camera set, none dropped
    assert [s.stamp_ns for s in a.samples] == [s.stamp_ns for s in b.samples]
    assert np.array_equal(_waypoints(a), _waypoints(b))


def test_sqlite3_and_mcap_replay_alike(bags):
    cfg = ReplayConfig()
    a = replay_policy(bags["sqlite3"], ConstantVelocityPolicy(), cfg)
    b = replay_policy(bags["mcap"], ConstantVelocityPolicy(), cfg)
    assert np.array_equal(_waypoints(a), _waypoints(b))


def test_labels_and_agent_boxes_in_the_ego_frame(bags):
    run = replay_policy(bags["sqlite3"], ConstantVelocityPolicy(), ReplayConfig(max_frames=5))
    assert len(run.samples) == 5
    s = run.samples[0]
    # 8 m/s with a slow left turn: 24 m ahead after 3 s, slightly to the left
    assert s.true_waypoints[-1, 0] == pytest.approx(24.0, abs=0.1)
    assert 0.0 < s.true_waypoints[-1, 1] < 1.0
    assert s.plan.waypoints[-1, 0] == pytest.approx(24.0, abs=0.1)
    # the agent starts 30 m ahead at 5 m/s: +2.5 m per 0.5 s step
    assert s.agent_boxes.shape == (6, 1, 5)
    assert s.agent_boxes[0, 0, 0] == pytest.approx(32.5, abs=0.1)
    assert s.agent_boxes[5, 0, 0] - s.agent_boxes[0, 0, 0] == pytest.approx(12.5, abs=0.2)


def test_corruption_reaches_the_policy_input(bags):
    cfg = ReplayConfig(max_frames=3)
    clean = replay_policy(bags["sqlite3"], ConstantVelocityPolicy(), cfg)
    lost = replay_policy(bags["sqlite3"], ConstantVelocityPolicy(), cfg,
                         corruption=Corruption("camera_crash", 5))
    stamp = clean.samples[0].stamp_ns
    assert clean.inputs[stamp]["bev_near"].mean() > 50
    assert lost.inputs[stamp]["bev_near"].max() == 0
    with pytest.raises(ValueError):
        Corruption("hail", 3)


def test_cli_writes_report_and_json(bags, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    eval_replay.add_arguments(parser)
    args = parser.parse_args([bags["sqlite3"].path, bags["mcap"].path, "--out",
                              str(tmp_path / "rep"), "--json", str(tmp_path / "m.json"),
                              "--corruptions", "fog", "--max-frames", "30"])
    assert eval_replay.main(args) == 0
    doc = json.loads((tmp_path / "m.json").read_text())
    assert set(doc["results"]) == {"clean", "fog@3"}
    assert set(doc["results"]["clean"]) == {"constant_velocity", "expert_recorded"}
    assert doc["results"]["clean"]["expert_recorded"]["l2_m"]["uniad"]["3s"] == 0.0
    assert (tmp_path / "rep" / "report.md").stat().st_size > 0
    assert "report:" in capsys.readouterr().out


def test_cli_fails_clearly_on_missing_bundle_or_bag(bags, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    eval_replay.add_arguments(parser)
    assert eval_replay.main(parser.parse_args([str(tmp_path / "nope")])) == 2
    assert eval_replay.main(parser.parse_args([bags["sqlite3"].path, "--bundle",
                                              str(tmp_path / "no_bundle")])) == 2
    assert "bundle" in capsys.readouterr().err


def test_cli_refuses_a_report_directory_it_would_not_overwrite(bags, tmp_path, capsys):
    """The MCAP recorder never overwrites: a reused --out ended a finished replay in a
    FileExistsError traceback; now one line before anything runs."""
    (tmp_path / "rep" / "predictions_mcap").mkdir(parents=True)
    parser = argparse.ArgumentParser()
    eval_replay.add_arguments(parser)
    args = parser.parse_args([bags["sqlite3"].path, "--out", str(tmp_path / "rep")])
    assert eval_replay.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "already holds predictions_mcap" in err and "\n" not in err
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["predictions_mcap"]


def test_cli_on_a_real_bag_without_cameras_says_so(shared_dir, capsys):
    """An Autoware vehicle bag (odometry only, no metadata.yaml): no camera set, no cycle."""
    bag = shared_dir / "bags" / "autoware_kinematic_state" / "bag_ego_trajectory.db3"
    parser = argparse.ArgumentParser()
    eval_replay.add_arguments(parser)
    args = parser.parse_args([str(bag), "--odometry-topic", "/localization/kinematic_state"])
    assert eval_replay.main(args) == 1
    assert "no planning cycle ran" in capsys.readouterr().err


def test_scene_text_is_scored_against_references(bags, monkeypatch):
    """The baseline's own text as the reference: BLEU-4 1 (Java-free tokenizer for speed)."""
    from vla_driving.evaluation import text_metrics
    from vla_driving.evaluation.summary import summarise
    monkeypatch.setattr(text_metrics.shutil, "which", lambda name: None)

    def references(bag, stamp):
        return "ego vehicle at 8.0 m/s; no scene model (baseline)", "keep going"
    run = replay_policy(bags["sqlite3"], ConstantVelocityPolicy(), ReplayConfig(
        max_frames=4, text_every=2), references=references)
    metrics = summarise(run.samples)
    assert metrics["description"]["samples"] == 2
    assert metrics["description"]["BLEU-4"] == pytest.approx(1.0)
    assert metrics["justification"]["BLEU-4"] < 0.5


@pytest.fixture(scope="module")
def ref_bag(tmp_path_factory):
    return read_bag(write_bag(tmp_path_factory.mktemp("refs") / "r", references=True))


class Answering(ConstantVelocityPolicy):
    """The baseline with a QA lookup (stands in for a model's answers: the test is about the
    questions reaching the policy from the bag and the accuracy computed on its answers) and a
    text head whose every `reject_every`-th text fails the strict parser."""

    def __init__(self, answers: dict, reject_every: int = 0):
        super().__init__()
        self.answers, self.reject_every, self.calls, self.asked = answers, reject_every, 0, []

    def describe(self, observation):
        from vla_driving.policy.base import MalformedOutputError
        self.calls += 1
        if self.reject_every and self.calls % self.reject_every == 0:
            raise MalformedOutputError("text plan rejected: expected 4 lines, got 1")
        return super().describe(observation)

    def answer(self, observation, questions):
        self.asked.append(list(questions))
        return [self.answers.get(q, "") for q in questions]


def test_text_and_qa_are_scored_against_the_bags_references(ref_bag, monkeypatch):
    from eval_bag_fixtures import REFERENCE_QA
    from vla_driving.evaluation import text_metrics
    from vla_driving.evaluation.summary import summarise
    monkeypatch.setattr(text_metrics.shutil, "which", lambda name: None)   # fast, no Java

    (q1, a1), (q2, _) = REFERENCE_QA
    policy = Answering({q1: a1.upper() + ".", q2: "the right lane"}, reject_every=3)
    run = replay_policy(ref_bag, policy, ReplayConfig(text_every=10))
    m = summarise(run.samples)
    # text on cycles 0, 10, ..., 50; the bag has references on the first 3 s (cycles 0-29);
    # the 3rd and 6th texts (cycles 20, 50) are rejected
    assert m["text"]["requested"] == 6 and m["text"]["accepted"] == 4
    assert m["drops"]["text_rejected"] == m["text"]["rejected"] == 2
    assert m["text"]["parse_rate"] == pytest.approx(4 / 6)
    assert m["text"]["latency_ms"]["count"] == 6
    assert m["text"]["rate_hz"] == pytest.approx(4 / 5.9)   # 4 texts over 5.9 s replayed
    assert m["description"]["samples"] == 2                 # cycles 0 and 10: accepted + ref
    assert m["description"]["BLEU-4"] == pytest.approx(1.0)
    # QA is asked on every text cycle with reference rounds (0, 10, 20), rejected text or not
    assert policy.asked == [[q1, q2]] * 3
    assert m["qa"] == {"accuracy": pytest.approx(0.5), "samples": 6}


def test_without_references_or_text_the_report_says_why(bags, ref_bag):
    from vla_driving.evaluation.summary import NO_REFERENCES, NO_TEXT, summarise

    no_refs = summarise(replay_policy(bags["sqlite3"], Answering({}),
                                      ReplayConfig(max_frames=20, text_every=5)).samples)
    assert no_refs["text"]["accepted"] == 4
    for part in ("description", "justification", "qa"):
        assert no_refs[part]["note"] == NO_REFERENCES and no_refs[part]["samples"] == 0
    assert no_refs["description"]["BLEU-4"] is None and "CIDEr" in no_refs["description"]
    no_text = summarise(replay_policy(ref_bag, Answering({}), ReplayConfig(max_frames=20))
                        .samples)
    assert no_text["description"]["note"] == no_text["qa"]["note"] == NO_TEXT
    assert no_text["text"]["requested"] == 0 and no_text["text"]["parse_rate"] is None


def test_cli_json_carries_text_metrics_qa_and_counters(ref_bag, tmp_path):
    parser = argparse.ArgumentParser()
    eval_replay.add_arguments(parser)
    out = tmp_path / "m.json"
    args = parser.parse_args([ref_bag.path, "--text-every", "10", "--json", str(out)])
    assert eval_replay.main(args) == 0
    clean = json.loads(out.read_text())["results"]["clean"]
    cv = clean["constant_velocity"]
    assert cv["description"]["samples"] == 3 and cv["description"]["BLEU-4"] == pytest.approx(1)
    assert set(cv["description"]) >= {"BLEU-4", "METEOR", "ROUGE-L", "CIDEr"}
    assert cv["qa"]["accuracy"] is None and cv["qa"]["note"] == "the policy answers no questions"
    assert cv["drops"]["text_rejected"] == 0 and cv["text"]["accepted"] == 6
    assert clean["expert_recorded"]["text"]["requested"] == 0   # the replayed text is not its


def test_shared_inputs_corrupt_each_frame_once_and_score_alike(bags, monkeypatch):
    """Two policies replayed on one ReplayInputs see the frames one corruption pass made and
    get the same samples as replays that each decode and corrupt on their own."""
    from vla_driving.evaluation import replay as replay_module
    from vla_driving.evaluation.replay import ReplayInputs
    bag, cfg, fog = bags["sqlite3"], ReplayConfig(max_frames=10), Corruption("fog", 3)
    alone = [replay_policy(bag, ConstantVelocityPolicy(), cfg, fog) for _ in range(2)]
    calls = []
    real = replay_module.apply_to_frame
    monkeypatch.setattr(replay_module, "apply_to_frame",
                        lambda *a: calls.append(a[4:]) or real(*a))
    inputs = ReplayInputs(bag, fog, cfg.seed)
    shared = [replay_policy(bag, ConstantVelocityPolicy(), cfg, fog, inputs=inputs)
              for _ in range(2)]
    assert calls and len(calls) == len(set(calls))   # (camera, stamp): once each
    for a, b in zip(alone, shared):
        assert np.array_equal(_waypoints(a), _waypoints(b))
        assert all(np.array_equal(a.inputs[s][c], b.inputs[s][c])
                   for s in a.inputs for c in a.inputs[s])
        assert all(np.array_equal(x.agent_boxes, y.agent_boxes)
                   and np.array_equal(x.true_waypoints, y.true_waypoints)
                   for x, y in zip(a.samples, b.samples))
    assert shared[0].samples[0] is not shared[1].samples[0]   # labels shared, samples not
    with pytest.raises(ValueError):
        replay_policy(bag, ConstantVelocityPolicy(), cfg, None, inputs=inputs)
