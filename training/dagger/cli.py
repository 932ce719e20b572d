"""`vla-train dagger`: closed-loop learning from the shadow expert, round by round.

    vla-train dagger --data data/train --checkpoint runs/bc/drive --out runs/dagger \
        [--rounds 3 --routes-per-scenario 6 --drive-steps 1500 ...] [--workers 2]
        [--address ray://host:10001]

Rollouts and validation routes run as tasks: in this process (`--workers 1`), on a local Ray
instance (`--workers N`, loopback only) or on a Ray cluster (`--address`). The labelled rollouts
are written under `<data>/dagger/round_NN/` (rosbag2, like the generator's episodes);
`OUT/dagger.md` is the per-round curve and `OUT/best` the checkpoint with the best validation
driving score.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from vla_driving.config_cli import add_config_arguments, config_from_args

from ..presets import PRESETS, get_preset
from .rounds import DaggerConfig, curve_table, run_dagger


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="generated data dir (its train/val "
                        "splits); DAgger episodes are added under <data>/dagger/")
    parser.add_argument("--checkpoint", required=True, help="starting checkpoint (a drive "
                        "stage directory)")
    parser.add_argument("--out", required=True, help="output directory (one per round)")
    parser.add_argument("--preset", default="teacher", choices=sorted(PRESETS),
                        help="training preset whose drive stage the rounds use (batch size, "
                        "loss weights)")
    parser.add_argument("--workers", type=int, default=1, help="local Ray workers (1: in this "
                        "process)")
    parser.add_argument("--address", default=None, help="Ray cluster address (default: local)")
    parser.add_argument("--extra-data", nargs="*", default=[], metavar="DIR",
                        help="more expert episodes to train on beside --data's train split "
                        "(every bag under each DIR), e.g. generated with another camera look")
    parser.add_argument("--profile", default=None, help="sim profile YAML of the closed loop "
                        "(default: the package's sim profile)")
    add_config_arguments(parser, DaggerConfig)


def main(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for name in ("vla_driving.engines", "tokenicer", "accelerate"):
        logging.getLogger(name).setLevel(logging.WARNING)
    cfg = config_from_args(DaggerConfig, args)
    checkpoint = Path(args.checkpoint)
    if not (checkpoint / "config.json").is_file():
        raise SystemExit(f"--checkpoint {checkpoint}: not a checkpoint (no config.json)")
    result = run_dagger(cfg, get_preset(args.preset), Path(args.data), checkpoint,
                        Path(args.out), args.workers, args.address, args.profile,
                        [Path(d) for d in args.extra_data])
    print(curve_table(result["rounds"]))
    print(f"best: round {result['best_round']} -> {result['best']}")
    return 0
