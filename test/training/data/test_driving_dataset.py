"""The PyTorch Dataset and the index over real generated bags (and the Autoware bag)."""

import json

import numpy as np
import pytest
import torch

from vla_driving.constants import NS_PER_S
from vla_driving.data import BagTopics
from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS
from vla_driving.sim import SimConfig
from vla_driving_training.data.dataset import DatasetConfig, DrivingDataset, collate, open_split
from vla_driving_training.data.gen_config import GenerateConfig
from vla_driving_training.data.generate import generate, plan
from vla_driving_training.data.index import (INDEX_FILE, IndexConfig, build_index, class_weights,
                                             find_bags, save_index, split_of)

IMAGE = 32


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    cfg = GenerateConfig(sim=SimConfig(image_size=IMAGE), episode_s=5.0)
    generate(plan(["highway", "racetrack"], 3, seed=9), root, cfg, workers=1, progress=False)
    return root


def test_item_matches_the_contract(data_dir):
    ds = DrivingDataset(find_bags(data_dir), DatasetConfig(image_size=IMAGE))
    assert len(ds) == 6 * (50 - 30)
    item = ds[7]
    shapes = {"images": (2, 2, 3, IMAGE, IMAGE), "ego": (3,), "past": (4, 2),
              "waypoints": (6, 2), "controls": (2, 4), "speed_level": (),
              "steering_level": (), "instruction_completed": ()}
    for key, shape in shapes.items():
        assert tuple(item[key].shape) == shape, key
    assert item["images"].dtype == torch.uint8 and item["waypoints"].dtype == torch.float32
    assert item["speed_level"].dtype == torch.int64
    assert 0 <= int(item["speed_level"]) < len(SPEED_LEVELS)
    assert 0 <= int(item["steering_level"]) < len(STEERING_LEVELS)
    assert isinstance(item["instruction"], str) and item["instruction"]
    assert item["description"] and item["justification"] and len(item["qa"]) >= 3
    assert 0.0 <= item["difficulty"] <= 1.0 and isinstance(item["stamp_ns"], int)
    batch = collate([ds[0], ds[1]])
    assert batch["images"].shape[0] == 2 and len(batch["qa"]) == 2


def test_history_is_oldest_first_and_clamped_at_the_start(data_dir):
    ds = DrivingDataset(find_bags(data_dir)[:1], DatasetConfig(image_size=IMAGE, history=3))
    first = ds[0]["images"]
    assert torch.equal(first[0], first[2])          # no earlier frames: the first repeats
    late = ds[15]["images"]                          # 1.5 s in: three distinct times
    assert not torch.equal(late[0], late[2])
    assert ds[15]["stamp_ns"] - ds[0]["stamp_ns"] == int(1.5 * NS_PER_S)


def test_bag_without_cameras_yields_trajectories_only(shared_dir):
    cfg = DatasetConfig(topics=BagTopics(odometry="/localization/kinematic_state"))
    ds = DrivingDataset([shared_dir / "bags/autoware_kinematic_state/bag_ego_trajectory.db3"], cfg)
    item = ds[100]
    assert not ds.has_frames and item["images"].shape == (2, 0, 3, 128, 128)
    assert item["qa"] == [] and item["description"] == ""
    assert torch.isfinite(item["waypoints"]).all() and item["controls"].shape == (2, 4)


def test_index_splits_by_episode_and_weights_balance_classes(data_dir):
    ds = DrivingDataset(find_bags(data_dir), DatasetConfig(image_size=IMAGE))
    from vla_driving_training.data.dataset import index_rows

    index = build_index(data_dir, index_rows(ds), IndexConfig(val_fraction=0.3, test_fraction=0.3))
    save_index(data_dir, index)
    splits = {s: open_split(data_dir, s, DatasetConfig(image_size=IMAGE))
              for s in ("train", "val", "test")}
    episodes = {s: {d.sample(i)[1].episode for i in range(len(d))} for s, d in splits.items()}
    assert sum(len(d) for d in splits.values()) == len(ds)
    assert not (episodes["train"] & episodes["val"]) and not (episodes["train"] & episodes["test"])
    train = splits["train"]
    assert len(train.weights) == len(train)
    stored = json.loads((data_dir / INDEX_FILE).read_text())
    assert {e["split"] for e in stored["episodes"]} <= {"train", "val", "test"}


def test_difficulty_filter_applies_to_training_frames_only(data_dir):
    ds = DrivingDataset(find_bags(data_dir), DatasetConfig(image_size=IMAGE))
    from vla_driving_training.data.dataset import index_rows

    cfg = IndexConfig(val_fraction=0.0, test_fraction=0.0, min_difficulty=0.05,
                      max_difficulty=0.6)
    save_index(data_dir, build_index(data_dir, index_rows(ds), cfg))
    train = open_split(data_dir, "train", DatasetConfig(image_size=IMAGE))
    kept = [train[i]["difficulty"] for i in range(len(train))]
    assert 0 < len(train) < len(ds) and all(0.05 <= d <= 0.6 for d in kept)


def test_split_and_weight_rules():
    cfg = IndexConfig()
    assert split_of("highway_0001_s5", cfg) == split_of("highway_0001_s5", cfg)
    shares = np.mean([split_of(f"e{i}", cfg) == "train" for i in range(2000)])
    assert 0.75 < shares < 0.85
    pairs = [(1, 2)] * 90 + [(2, 2)] * 10
    w = class_weights(pairs)
    assert w[(2, 2)] == pytest.approx(9 * w[(1, 2)])
    assert np.mean([w[p] for p in pairs]) == pytest.approx(1.0)
