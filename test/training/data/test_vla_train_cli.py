"""`vla-train data generate | build-index | inspect` end to end on a tiny run."""

import json

from vla_driving_training.cli import COMMANDS, main


def test_generate_index_inspect(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["data", "generate", "--scenario", "merge", "roundabout", "--episodes", "1",
                 "--seed", "2", "--out", str(out), "--episode-s", "4", "--format", "sqlite3"]) == 0
    text = capsys.readouterr().out
    assert "2 episodes" in text and "frames/s" in text and "MB per 1000 frames" in text
    assert len(list(out.glob("*/*.db3"))) == 2
    assert main(["data", "build-index", str(out), "--all-in", "test"]) == 0
    index = json.loads((out / "index.json").read_text())
    assert {e["split"] for e in index["episodes"]} == {"test"}
    assert main(["data", "inspect", str(out), "--sheet", str(tmp_path / "s.png")]) == 0
    text = capsys.readouterr().out
    assert "steering/speed" in text and (tmp_path / "s.png").stat().st_size > 1000


def test_unknown_scenario_is_refused(tmp_path, capsys):
    assert main(["data", "generate", "--scenario", "moon", "--out", str(tmp_path)]) == 2
    assert "unknown scenario" in capsys.readouterr().out


def test_registry_names_the_train_entry():
    assert (("train",), "vla_driving_training.train_cli") in [(w, m) for w, m, _ in COMMANDS]


def test_inspect_a_car_bag_with_topics_from_yaml(tmp_path, capsys, shared_dir):
    cfg = tmp_path / "ds.yaml"
    cfg.write_text("vla_dataset:\n  ros__parameters:\n    topics:\n"
                   "      odometry: /localization/kinematic_state\n      instruction: ''\n")
    bag = shared_dir / "bags/autoware_kinematic_state/bag_ego_trajectory.db3"
    assert main(["data", "inspect", str(bag), "--config", str(cfg),
                 "--sheet", str(tmp_path / "aw.png")]) == 0
    out = capsys.readouterr().out
    assert "no camera frames" in out and "labelled frames" in out
    assert "/carla/ego_vehicle/instruction" not in out and (tmp_path / "aw.png").exists()


def test_inspect_a_bag_without_the_configured_topics_is_one_line(capsys, shared_dir):
    """Issue 19 item 11: was a KeyError traceback."""
    bag = shared_dir / "bags/autoware_kinematic_state/bag_ego_trajectory.db3"
    assert main(["data", "inspect", str(bag)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "none of the configured topics" in out[0]
    assert "/localization/kinematic_state (nav_msgs/msg/Odometry)" in out[0]
