"""DAgger: the shadow expert labels the states a policy drove into, and the rounds run end to end.

The rollouts here are driven by the constant-velocity planner (no model needed) through the real
lockstep loop and simulator; the end-to-end test (slow) trains and rolls out the tiny preset.
"""

import dataclasses
import json

import numpy as np
import pytest

from vla_driving.constants import NS_PER_S
from vla_driving.data import read_bag
from vla_driving.data.labels import FUTURE_TIMES_S, to_ego_frame
from vla_driving.data.topics import TOPIC_SIM_EXPERT_FUTURE
from vla_driving.evaluation.closed_loop import ClosedLoopConfig
from vla_driving.evaluation.sweep import run_sweep
from vla_driving.sim import SimConfig, make_sim
from vla_driving_training.dagger.rollout import (RolloutTask, beta_schedule, rollout_tasks,
                                                 run_rollout)
from vla_driving_training.dagger.rounds import Aggregate
from vla_driving_training.data.dataset import DatasetConfig, DrivingDataset

CV_PLANNER = (("policy", "constant_velocity"),)


def test_a_clone_steps_without_touching_the_original():
    sim = make_sim("highway", 1000, SimConfig(step_hz=20.0))
    for _ in range(5):
        sim.step(sim.expert_action("keep_lane"))
    before = sim.ego_state()
    traffic = [v.position.copy() for v in sim.env.road.vehicles]
    future = sim.expert_future("slow_down", 3.2)
    assert sim.ego_state() == before
    assert all((a == v.position).all() for a, v in zip(traffic, sim.env.road.vehicles))
    assert future["t_ns"][0] == before.stamp_ns and future["x"][0] == before.x
    assert future["t_ns"][-1] - future["t_ns"][0] >= 3.2 * NS_PER_S - 1
    assert future["speed"][-1] < future["speed"][0] - 2.0      # slow down: it brakes
    assert sim.expert_future("slow_down", 3.2) == future        # the clone's traffic replays


@pytest.fixture(scope="module")
def cv_rollout(tmp_path_factory):
    out = tmp_path_factory.mktemp("dagger")
    task = RolloutTask("highway", 4242, "slow_down", 0.0, 0, str(out), CV_PLANNER,
                       label_every_s=0.5)
    row = run_rollout(ClosedLoopConfig(duration_s=5.0).to_dict(), task)
    return row, task


def test_a_rollout_records_the_policy_and_labels_with_the_expert(cv_rollout):
    row, task = cv_rollout
    assert row["frames"] == 10 and row["expert_share"] == 0.0
    bag = read_bag(row["path"])
    assert bag.report.counts[TOPIC_SIM_EXPERT_FUTURE] == 10
    assert len(bag.images["bev_near"]) == 10
    assert bag.episode["dagger"]["command"] == "slow_down"
    assert bag.report.counts["/sim/reference/justification"] == 10   # texts, as generated bags
    ds = DrivingDataset([row["path"]], DatasetConfig(image_size=32))
    # 10 frames, the last ones without 3 s of recorded past-horizon margin are still labelled
    # (the expert future carries the horizon), so every frame with a future is a sample
    assert len(ds) == 10
    episode, sample = ds.sample(4)
    stamp, future = bag.expert_futures[4]
    assert sample.stamp_ns == stamp
    # the label is the expert's future (it slows down), not the driven one (constant velocity)
    t = (np.asarray(future["t_ns"]) - stamp) / NS_PER_S
    fx = np.interp(FUTURE_TIMES_S, t, future["x"])
    fy = np.interp(FUTURE_TIMES_S, t, future["y"])
    expected = to_ego_frame(fx, fy, future["x"][0], future["y"][0], future["yaw"][0])
    np.testing.assert_allclose(sample.labels.waypoints, expected, atol=1e-6)
    driven = bag.odometry.at((stamp - bag.odometry.t_ns[0]) / NS_PER_S + FUTURE_TIMES_S)
    assert sample.labels.waypoints[-1, 0] < driven[0][-1] - future["x"][0] - 3.0
    # the ego input is what the planner saw: the driven odometry's speed
    k = int(np.searchsorted(bag.odometry.t_ns, stamp))
    assert sample.labels.ego[0] == pytest.approx(bag.odometry.speed[k], abs=0.3)


def test_a_rollout_drives_in_its_camera_look(tmp_path):
    task = RolloutTask("highway", 4242, "keep_lane", 0.0, 0, str(tmp_path), CV_PLANNER,
                       look="highway_env")
    row = run_rollout(ClosedLoopConfig(duration_s=1.0).to_dict(), task)
    bag = read_bag(row["path"])
    assert bag.episode["dagger"]["look"] == "highway_env" and "highway_env" in row["episode"]
    bev = RolloutTask("highway", 4242, "keep_lane", 0.0, 0, str(tmp_path), CV_PLANNER)
    other = read_bag(run_rollout(ClosedLoopConfig(duration_s=1.0).to_dict(), bev)["path"])
    assert bag.images["bev_near"][0][2] != other.images["bev_near"][0][2]


def test_the_expert_takes_over_whole_segments(tmp_path):
    task = RolloutTask("highway", 4242, "slow_down", 1.0, 0, str(tmp_path), CV_PLANNER)
    row = run_rollout(ClosedLoopConfig(duration_s=3.0).to_dict(), task)
    assert row["expert_share"] == 1.0
    bag = read_bag(row["path"])
    # the expert slows down where constant velocity would not
    assert bag.odometry.speed[-1] < bag.odometry.speed[0] - 1.0


def test_the_expert_intervenes_where_the_policy_strays(tmp_path):
    """Constant velocity leaves the roundabout's curved entry road within 2 s; with the gate
    the expert takes over once the car is off its lane and the rollout lasts (HG-DAgger)."""
    cfg = ClosedLoopConfig(duration_s=4.0).to_dict()
    alone = run_rollout(cfg, RolloutTask("roundabout", 4242, "keep_lane", 0.0, 0,
                                         str(tmp_path / "alone"), CV_PLANNER))
    assert alone["sim_s"] < 3.0 and alone["interventions"] == 0
    gated = run_rollout(cfg, RolloutTask("roundabout", 4242, "keep_lane", 0.0, 0,
                                         str(tmp_path / "gated"), CV_PLANNER, intervene=True))
    assert gated["sim_s"] >= 4.0 and gated["interventions"] >= 1
    assert 0.0 < gated["expert_share"] < 1.0       # the policy drove until it strayed
    assert gated["frames"] > alone["frames"]


def test_rollout_tasks_are_fixed_by_seed_and_round(tmp_path):
    commands = {"highway": ["keep_lane", "slow_down", "change_lane_left"],
                "roundabout": ["keep_lane"]}
    a = rollout_tasks(["highway", "roundabout"], commands, 3, 1, 0.25, tmp_path, {"bundle": "b"}, 0)
    b = rollout_tasks(["highway", "roundabout"], commands, 3, 1, 0.25, tmp_path, {"bundle": "b"}, 0)
    c = rollout_tasks(["highway", "roundabout"], commands, 3, 2, 0.25, tmp_path, {"bundle": "b"}, 0)
    assert a == b and [t.seed for t in a] != [t.seed for t in c]
    assert len(a) == 6 and all(t.seed >= 10_000 for t in a)    # never a held-out seed
    assert {t.command for t in a if t.scenario == "roundabout"} == {"keep_lane"}
    looks = rollout_tasks(["highway"], commands, 4, 1, 0.25, tmp_path, {}, 0, ("", "highway_env"))
    assert [t.look for t in looks] == ["", "highway_env", "", "highway_env"]
    assert len({t.name for t in looks}) == 4
    assert beta_schedule(0.5, 0.5, 0) == 0.5 and beta_schedule(0.5, 0.5, 2) == 0.125


def test_rollouts_give_the_same_bags_on_any_number_of_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    cfg = ClosedLoopConfig(duration_s=2.0)
    tasks = [dataclasses.replace(t, planner=CV_PLANNER) for t in rollout_tasks(
        ["highway"], {"highway": ["keep_lane", "slow_down"]}, 2, 0, 0.5, tmp_path / "one",
        {}, 3)]
    here = run_sweep(cfg, tasks, workers=1, fn=run_rollout, progress=False)
    moved = [dataclasses.replace(t, out=str(tmp_path / "two")) for t in tasks]
    ray = run_sweep(cfg, moved, workers=2, fn=run_rollout, progress=False)
    assert [o.ok for o in here.outcomes + ray.outcomes] == [True] * 4
    for a, b in zip(here.outcomes, ray.outcomes):
        x, y = read_bag(a.row["path"]), read_bag(b.row["path"])
        np.testing.assert_array_equal(x.odometry.x, y.odometry.x)
        assert x.expert_futures == y.expert_futures


def test_aggregate_draws_the_dagger_share():
    base, extra = list(range(900)), [list(range(1000, 1050)), list(range(2000, 2050))]
    mixed = Aggregate(base, extra, share=0.5)
    drawn = [mixed[i] for i in range(len(mixed))]
    share = sum(x >= 1000 for x in drawn) / len(drawn)
    assert 0.45 < share < 0.55 and set(base) <= set(drawn)
    alone = Aggregate(base, extra, share=0.0)
    assert alone.repeat == 0 and [alone[i] for i in range(len(alone))] == base


@pytest.mark.slow
def test_dagger_rounds_end_to_end_on_the_tiny_preset(tmp_path):
    from vla_driving_training.dagger.rounds import DaggerConfig, run_dagger
    from vla_driving_training.data.gen_config import GenerateConfig
    from vla_driving_training.data.generate import generate, plan
    from vla_driving_training.data_source import open_splits
    from vla_driving_training.presets import tiny
    from vla_driving_training.train import train

    data = tmp_path / "data"
    generate(plan(["highway"], 8, seed=5), data,
             GenerateConfig(sim=SimConfig(image_size=32), episode_s=6.0), progress=False)
    cfg = tiny()
    train_set, val_set = open_splits(str(data), 32, 2)
    assert len(val_set), "the index must give the tiny data a val split"
    train(cfg, train_set, val_set, tmp_path / "bc")
    extra = tmp_path / "other_look"
    generate(plan(["highway"], 1, seed=6), extra,
             GenerateConfig(sim=SimConfig(image_size=32), episode_s=6.0, looks=["highway_env"]),
             progress=False)
    dagger = DaggerConfig(rounds=1, scenarios=["highway"], routes_per_scenario=1, duration_s=3.0,
                          drive_steps=3, val_seeds=[3000], val_duration_s=2.0)
    result = run_dagger(dagger, cfg, data, tmp_path / "bc" / "drive", tmp_path / "dagger",
                        extra_data=[extra])
    rounds = result["rounds"]
    assert [r["round"] for r in rounds] == [0, 1]
    assert rounds[0]["dagger_frames"] > 0 and rounds[0]["rollouts"] == 1
    assert {"model", "constant_velocity", "expert_idm_mobil"} <= set(rounds[0]["val"])
    assert "l2_avg" in rounds[1]
    assert (tmp_path / "dagger" / "best" / "config.json").is_file()
    assert list((data / "dagger" / "round00").iterdir())
    saved = json.loads((tmp_path / "dagger" / "dagger.json").read_text())
    assert saved["best_round"] in (0, 1)


def test_a_rounds_drive_stage_takes_the_rounds_tasks_balance_and_history_dropout():
    from vla_driving.configuration import ConfigError
    from vla_driving_training.dagger.rounds import DaggerConfig, round_stage
    from vla_driving_training.presets import default

    preset = default()
    same = round_stage(preset, DaggerConfig(drive_steps=300, lr=2e-4))
    assert same.tasks == ["drive", "qa", "caption"] and same.balance == 0.0
    assert same.history_dropout == 0.0 and same.ema_decay == 0.0
    assert (same.steps, same.lr, same.teachers) == (300, 2e-4, [])
    plan_only = round_stage(preset, DaggerConfig(tasks=["drive"], balance=0.5,
                                                 history_dropout=0.5, ema_decay=0.99))
    assert plan_only.tasks == ["drive"] and plan_only.balance == 0.5
    assert plan_only.history_dropout == 0.5 and plan_only.ema_decay == 0.99
    with pytest.raises(ConfigError, match="must include drive"):
        DaggerConfig(tasks=["qa"])


def test_the_curve_table_shows_the_braking_probe_and_says_na_when_missing():
    from vla_driving_training.dagger.rounds import curve_table

    val = {"model": {"driving_score": 60.0, "collisions_per_km": 1.0}}
    rounds = [{"round": 0, "val": {**val, "constant_velocity": val["model"]}, "l2_avg": 1.1,
               "braking_expert": 0.8, "braking_model": 0.85, "braking_model_history_hidden": 0.97},
              {"round": 1, "val": val}]
    lines = curve_table(rounds).splitlines()
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert lines[2].endswith("| 0.80 / 0.85 / 0.97 |")
    assert lines[3].endswith("| n/a / n/a / n/a |")
