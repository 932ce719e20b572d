"""The tiny preset: every stage trains, loss goes down, runs are deterministic, CLI works."""

import argparse
import json

import pytest
import torch

from vla_driving.model.checkpoint import load_checkpoint
from vla_driving_training import train_cli
from vla_driving_training.presets import get_preset, tiny
from vla_driving_training.synthetic import SyntheticDrivingDataset
from vla_driving_training.train import train


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    torch.set_num_threads(1)
    runs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(name)
        result = train(tiny(), SyntheticDrivingDataset(32), SyntheticDrivingDataset(8, seed=1), out)
        runs.append((out, result))
    return runs


def test_loss_goes_down_in_every_stage(two_runs):
    _, result = two_runs[0]
    for name, r in result["results"].items():
        assert r["loss"][-1] < r["loss"][0], name


def test_each_stage_leaves_a_checkpoint_and_metrics(two_runs):
    out, _ = two_runs[0]
    for stage in ("align", "understand", "drive"):
        assert (out / stage / "model.safetensors").is_file()
        metrics = json.loads((out / stage / "metrics.json").read_text())
        assert set(metrics["l2"]) == {"1s", "2s", "3s", "avg"}
        assert 0.0 <= metrics["meta"]["weighted_accuracy"] <= 1.0
        assert set(metrics["history_hidden"]["l2"]) == {"1s", "2s", "3s", "avg"}
        assert metrics["braking"]["frames"] == metrics["history_hidden"]["braking"]["frames"]
    assert json.loads((out / "summary.json").read_text())["total_seconds"] > 0


def test_runs_are_deterministic(two_runs):
    (_, a), (_, b) = two_runs
    sa, sb = a["model"].state_dict(), b["model"].state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a["results"]["drive"]["loss"] == b["results"]["drive"]["loss"]


def test_stage_resumes_from_the_previous_checkpoint(two_runs, tmp_path):
    out, result = two_runs[0]
    resumed = train(tiny(), SyntheticDrivingDataset(32), None, tmp_path,
                    resume_from=out / "understand", stages=["drive"])
    assert torch.equal(resumed["model"].head.mlp[0].weight, result["model"].head.mlp[0].weight)
    loaded, _ = load_checkpoint(out / "drive")
    assert torch.equal(loaded.head.mlp[0].weight, result["model"].head.mlp[0].weight)


def test_frozen_parts_do_not_change_in_alignment(tmp_path):
    torch.set_num_threads(1)
    cfg = tiny()
    result = train(cfg, SyntheticDrivingDataset(16), None, tmp_path, stages=["align"])
    from vla_driving.model.vla import VLAModel
    torch.manual_seed(cfg.seed)
    fresh = VLAModel(result["config"].model)
    assert torch.equal(fresh.llm.get_input_embeddings().weight,
                       result["model"].llm.get_input_embeddings().weight)
    assert not torch.equal(fresh.frontend.projector.net[0].weight,
                           result["model"].frontend.projector.net[0].weight)


def test_unknown_preset_and_stage_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="preset"):
        get_preset("huge")
    with pytest.raises(ValueError, match="unknown stage"):
        train(tiny(), SyntheticDrivingDataset(8), None, tmp_path, stages=["nope"])


def test_cli_on_synthetic_data(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    args = parser.parse_args(["--preset", "tiny", "--data", "synthetic:16", "--out",
                              str(tmp_path), "--steps-scale", "0.5"])
    assert train_cli.main(args) == 0
    assert "checkpoint" in capsys.readouterr().out
    assert (tmp_path / "drive" / "config.json").is_file()


def test_evaluate_command_compares_with_constant_velocity(two_runs, tmp_path, capsys):
    from vla_driving_training.cli import main as vla_train

    out, _ = two_runs[0]
    report = tmp_path / "heldout.json"
    assert vla_train(["evaluate", "--checkpoint", str(out / "drive"), "--data", "synthetic:32",
                      "--text-samples", "0", "--threads", "1", "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "constant velocity" in printed and "target" in printed
    metrics = json.loads(report.read_text())
    ratio = metrics["l2"]["avg"] / metrics["l2_constant_velocity"]["avg"]
    assert metrics["l2_ratio_vs_constant_velocity"] == pytest.approx(ratio)
    assert metrics["l2_target_met"] == (ratio <= 0.5)
    assert metrics["meta_target_met"] == (metrics["meta"]["weighted_accuracy"] >= 0.85)


def test_stop_after_is_the_full_run_stopped_there(two_runs, tmp_path):
    """A drive stage ended early keeps the full stage's schedule: its steps are the full run's
    first steps (same losses), not those of a shorter stage (another learning-rate curve)."""
    import dataclasses

    full = two_runs[0][1]["results"]["drive"]["loss"]
    cfg = tiny()
    drive = next(s for s in cfg.stages if s.name == "drive")
    stopped = dataclasses.replace(cfg, stages=[
        dataclasses.replace(s, stop_after=4) if s.name == "drive" else s for s in cfg.stages])
    shorter = dataclasses.replace(cfg, stages=[
        dataclasses.replace(s, steps=4) if s.name == "drive" else s for s in cfg.stages])
    data, val = SyntheticDrivingDataset(32), SyntheticDrivingDataset(8, seed=1)
    a = train(stopped, data, val, tmp_path / "a")["results"]["drive"]["loss"]
    b = train(shorter, data, val, tmp_path / "b")["results"]["drive"]["loss"]
    assert drive.steps > 4 and a == full[:4] and b != full[:4]
    saved = json.loads((tmp_path / "a" / "drive" / "config.json").read_text())
    assert saved["extra"]["step"] == 4
