"""Generated episode bags: vehicle topics and types, determinism by hashing message data, and
the same messages in both storage formats."""

import hashlib

import pytest
from rosbags.rosbag2 import Reader

from vla_driving.data import read_bag
from vla_driving.data.topics import TOPIC_SIM_AGENTS, TOPIC_SIM_COMPLETED, camera_topic
from vla_driving.sim import SimConfig
from vla_driving_training.data.episode import EpisodeSpec, episode_seed, run_episode
from vla_driving_training.data.gen_config import GenerateConfig

CFG = GenerateConfig(sim=SimConfig(image_size=32), episode_s=2.0)


def message_hashes(path) -> dict:
    """sha256 over (topic, stamp, raw message bytes) per topic."""
    out = {}
    with Reader(path) as reader:
        for conn, t, raw in reader.messages():
            h = out.setdefault(conn.topic, hashlib.sha256())
            h.update(f"{t}".encode() + bytes(raw))
    return {k: v.hexdigest() for k, v in out.items()}


def make(tmp_path, sub, seed=4, storage="mcap", scenario="merge"):
    cfg = GenerateConfig.from_dict({**CFG.to_dict(), "storage": storage})
    return run_episode(EpisodeSpec(scenario, 0, seed), tmp_path / sub, cfg)


def test_same_seed_same_messages_in_both_formats_and_other_seed_differs(tmp_path):
    a = message_hashes(make(tmp_path, "a")["path"])
    b = message_hashes(make(tmp_path, "b")["path"])
    c = message_hashes(make(tmp_path, "c", storage="sqlite3")["path"])
    d = message_hashes(make(tmp_path, "d", seed=5)["path"])
    assert a == b == c
    assert a[TOPIC_SIM_AGENTS] != d[TOPIC_SIM_AGENTS]


def test_bag_has_vehicle_topics_with_standard_types(tmp_path):
    row = make(tmp_path, "a", scenario="highway")
    with Reader(row["path"]) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
    assert types[camera_topic("bev_near")] == "sensor_msgs/msg/CompressedImage"
    assert types["/carla/ego_vehicle/odometry"] == "nav_msgs/msg/Odometry"
    assert types["/carla/ego_vehicle/instruction"] == "std_msgs/msg/String"
    assert types[TOPIC_SIM_COMPLETED] == "std_msgs/msg/Bool"
    bag = read_bag(row["path"])
    assert bag.report.mismatches() == [] and bag.report.missing_topics == []
    assert row["frames"] == 20 and len(bag.images["bev_far"]) == 20
    assert bag.episode["scenario"] == "highway" and bag.lanes and bag.agents


def test_episode_seeds_are_distinct_and_stable():
    seeds = {episode_seed(0, s, i) for s in ("highway", "merge") for i in range(50)}
    assert len(seeds) == 100
    assert episode_seed(0, "highway", 3) == episode_seed(0, "highway", 3)


@pytest.mark.parametrize("bad", [{"storage": "bag1"}, {"episode_s": 0.0}])
def test_generate_config_rejects_bad_values(bad):
    from vla_driving.configuration import ConfigError

    with pytest.raises(ConfigError):
        GenerateConfig.from_dict({**CFG.to_dict(), **bad})


def test_parallel_workers_write_the_same_bags_as_one_process(tmp_path):
    from vla_driving_training.data.generate import generate, plan

    specs = plan(["highway", "roundabout"], 1, seed=3)
    one = generate(specs, tmp_path / "one", CFG, workers=1, progress=False)
    two = generate(specs, tmp_path / "two", CFG, workers=2, progress=False)
    assert [r["episode"] for r in one] == [r["episode"] for r in two]
    for a, b in zip(one, two):
        assert message_hashes(a["path"]) == message_hashes(b["path"])


def test_a_failing_episode_is_reported_with_its_error_never_dropped(tmp_path):
    from vla_driving_training.data.episode import EpisodeSpec
    from vla_driving_training.data.generate import MANIFEST, generate, plan

    specs = plan(["highway"], 1, seed=3) + [EpisodeSpec("no_such_map", 0, 5)]
    rows = generate(specs, tmp_path, CFG, workers=1, progress=False)
    assert [r["episode"] for r in rows] == [s.name for s in specs]
    assert rows[0]["frames"] > 0 and "error" not in rows[0]
    assert "no_such_map" in rows[1]["error"] and rows[1]["path"] is None
    manifest = (tmp_path / MANIFEST).read_text().splitlines()
    assert len(manifest) == 1                     # only the episode that was written


def test_an_unreachable_ray_cluster_is_a_clear_error(tmp_path, capsys):
    import argparse

    from vla_driving_training.data import generate_cli

    parser = argparse.ArgumentParser()
    generate_cli.add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path), "--address", "127.0.0.1:1"])
    assert generate_cli.main(args) == 2
    assert "127.0.0.1:1" in capsys.readouterr().out
