"""`vla-driving demo`: refuses to run without the bundle; runs the whole job (closed loop through
the nodes, recorded expert episode, open-loop replay, reports) with the baselines."""

import argparse
import json

import pytest

from vla_driving.apps import demo


def _args(*argv):
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_missing_bundle_says_so_and_fails(tmp_path, capsys):
    assert demo.main(_args("--bundle", str(tmp_path / "no_bundle"), "--out", str(tmp_path))) == 1
    assert "bundle is missing" in capsys.readouterr().err


def test_an_earlier_demos_directory_is_refused_before_the_run(tmp_path, capsys):
    (tmp_path / "expert_episodes" / "highway_1000").mkdir(parents=True)
    assert demo.main(_args("--baseline-only", "--out", str(tmp_path))) == 1
    err = capsys.readouterr().err.strip()
    assert "already holds expert_episodes" in err and "\n" not in err


@pytest.mark.ros
def test_baseline_demo_writes_both_reports(tmp_path, capsys):
    assert demo.main(_args("--baseline-only", "--duration", "4", "--out", str(tmp_path))) == 0
    out = capsys.readouterr().out
    assert "| constant_velocity |" in out and "| expert_idm_mobil |" in out
    closed = json.loads((tmp_path / "closed_loop" / "metrics.json").read_text())
    assert closed["results"]["clean"]["expert_idm_mobil"]["routes"][0]["duration_s"] >= 3.9
    replay = json.loads((tmp_path / "replay" / "metrics.json").read_text())
    assert replay["results"]["clean"]["constant_velocity"]["drops"]["plans"] > 10
    assert (tmp_path / "replay" / "predictions_mcap").is_dir()
    # every stage counts every plan, and no latency is negative (issue 19, item 15: the
    # receipt-to-plan total was ROS clock - stamp, -50 ms, and skipped the plan before /clock)
    for doc in (closed, replay):
        cv = doc["results"]["clean"]["constant_velocity"]
        table = cv.get("planner", cv)["latency_ms"]
        plans = cv.get("planner", cv)["drops"]["plans"]
        assert {"prepare", "infer"} <= set(table) and plans > 10
        assert all(row["count"] == plans for row in table.values()), (plans, table)
        assert all(row["p50"] >= 0 and row["max"] >= 0 for row in table.values()), table
    assert "total_from_receipt" in closed["results"]["clean"]["constant_velocity"]["planner"][
        "latency_ms"]
