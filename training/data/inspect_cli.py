"""`vla-train data inspect`: what is in a data folder (or bag): counts, skips, class histogram,
and a contact sheet PNG with the future trajectory drawn on the frames."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from vla_driving.data import BagError
from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS

from .contact_sheet import contact_sheet
from .dataset import DrivingDataset, config_from_cli
from .index import find_bags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="data folder or one bag")
    parser.add_argument("--sheet", type=Path, default=None,
                        help="contact sheet PNG (default: ./contact_sheet.png; never written "
                             "into the bag folder)")
    parser.add_argument("--frames", type=int, default=12, help="frames on the contact sheet")
    parser.add_argument("--odometry-topic", default=None, help="odometry topic of car bags")
    parser.add_argument("--config", default=None, help="YAML with the DatasetConfig (topics, "
                        "cameras, label thresholds) under node 'vla_dataset'")
    parser.add_argument("--verbose", action="store_true", help="print every reader report line")


def histogram(ds: DrivingDataset) -> Counter:
    return Counter((s.labels.meta.steering, s.labels.meta.speed)
                   for _, s in (ds.sample(i) for i in range(len(ds))))


def print_histogram(hist: Counter) -> None:
    total = max(sum(hist.values()), 1)
    width = max(len(s) for s in SPEED_LEVELS)
    print(f"{'steering/speed':<18}" + "".join(f"{s:>{width + 1}}" for s in SPEED_LEVELS)
          + f"{'total':>9}")
    for st in STEERING_LEVELS:
        row = [hist[(st, sp)] for sp in SPEED_LEVELS]
        print(f"{st:<18}" + "".join(f"{n:>{width + 1}}" for n in row)
              + f"{sum(row):>6} {100 * sum(row) / total:4.1f}%")
    cols = [sum(hist[(st, sp)] for st in STEERING_LEVELS) for sp in SPEED_LEVELS]
    print(f"{'total':<18}" + "".join(f"{n:>{width + 1}}" for n in cols) + f"{total:>6}")


def summarise(report: list[str]) -> list[str]:
    """Totals per skip reason, plus every other problem line (missing topic, camera stops...)."""
    skipped, episodes, other = Counter(), Counter(), []
    for line in report:
        text = line.strip()
        if text.startswith("skipped ") and " anchors: " in text:
            count, reason = text[len("skipped "):].split(" anchors: ", 1)
            skipped[reason] += int(count)
            episodes[reason] += 1
        elif any(k in text for k in ("skipped", "missing", "stops", "says", "salvaged")):
            other.append(line)
    return other + [f"skipped {n} anchors in {episodes[r]} episode(s): {r}"
                    for r, n in sorted(skipped.items())]


def main(args: argparse.Namespace) -> int:
    bags = find_bags(args.root)
    if not bags:
        print(f"no bags under {args.root}")
        return 1
    cfg = config_from_cli(args.config, args.odometry_topic)
    try:
        ds = DrivingDataset(bags, cfg)
    except BagError as exc:   # e.g. none of the configured topics: one line, not a traceback
        print(f"vla-train data inspect: {exc}")
        return 1
    scenarios = Counter((ep.info or {}).get("scenario", "bag") for ep in ds.episodes)
    frames = Counter()
    for ep in ds.episodes:
        frames[(ep.info or {}).get("scenario", "bag")] += len(ep.samples)
    print(f"{len(bags)} bag(s), {len(ds)} labelled frames; "
          + ", ".join(f"{k}: {scenarios[k]} episodes / {frames[k]} frames" for k in sorted(scenarios)))
    if not ds.has_frames:
        print("no camera frames: trajectories and controls only")
    for line in ds.report if args.verbose else summarise(ds.report):
        print(line)
    print_histogram(histogram(ds))
    if len(ds):
        sheet = contact_sheet(ds, args.sheet or Path("contact_sheet.png"), n=args.frames)
        print(f"contact sheet: {sheet}")
    return 0
