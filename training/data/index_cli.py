"""`vla-train data build-index`: split a data folder by episode, score and weight its frames."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from .dataset import DrivingDataset, config_from_cli, index_rows
from .index import IndexConfig, build_index, find_bags, save_index


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="data folder with bags")
    parser.add_argument("--val", type=float, default=0.1, help="validation share of episodes")
    parser.add_argument("--test", type=float, default=0.1, help="test share of episodes")
    parser.add_argument("--min-difficulty", type=float, default=0.0)
    parser.add_argument("--max-difficulty", type=float, default=1.0)
    parser.add_argument("--all-in", choices=("train", "val", "test"), default=None,
                        help="put every episode in this split (e.g. a held-out folder: test)")
    parser.add_argument("--odometry-topic", default=None, help="odometry topic of car bags")
    parser.add_argument("--config", default=None, help="YAML with the DatasetConfig (topics, "
                        "cameras, label thresholds) under node 'vla_dataset'")


def main(args: argparse.Namespace) -> int:
    cfg = IndexConfig(val_fraction=args.val, test_fraction=args.test,
                      min_difficulty=args.min_difficulty, max_difficulty=args.max_difficulty)
    bags = find_bags(args.root)
    if not bags:
        print(f"no bags under {args.root}")
        return 1
    ds_cfg = config_from_cli(args.config, args.odometry_topic)
    ds = DrivingDataset(bags, ds_cfg)
    index = build_index(args.root, index_rows(ds), cfg)
    if args.all_in:
        for episode in index["episodes"]:
            episode["split"] = args.all_in
    path = save_index(args.root, index)
    splits = Counter(e["split"] for e in index["episodes"])
    frames = Counter()
    for e in index["episodes"]:
        frames[e["split"]] += len(e["frames"])
    print(f"wrote {path}: " + ", ".join(f"{s} {splits[s]} episodes / {frames[s]} frames"
                                        for s in ("train", "val", "test")))
    return 0
