"""`vla-train data generate`: N simulator episodes per scenario into rosbag2 files."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vla_driving.config_cli import add_config_arguments, config_from_args
from vla_driving.sim import SCENARIOS

from .gen_config import GenerateConfig
from .generate import generate, plan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", nargs="+", default=["highway"],
                        help=f"scenario(s) or 'all'; known: {', '.join(SCENARIOS)}")
    parser.add_argument("--episodes", type=int, default=1, help="episodes per scenario")
    parser.add_argument("--seed", type=int, default=0, help="run seed (episode seeds derive from it)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (one bag per episode)")
    parser.add_argument("--workers", type=int, default=1, help="parallel workers (more than 1: a "
                        "local Ray instance, on the loopback interface)")
    parser.add_argument("--address", default=None, help="run the episodes on the Ray cluster at "
                        "this address")
    parser.add_argument("--config", type=Path, default=None,
                        help="YAML (ros__parameters form, node 'vla_data_generate'); the options "
                             "below override it")
    # the generation settings are GenerateConfig's fields (declared once, validated like YAML)
    add_config_arguments(parser, GenerateConfig, rename={"storage": "format"})


def main(args: argparse.Namespace) -> int:
    scenarios = list(SCENARIOS) if args.scenario == ["all"] else args.scenario
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}")
        return 2
    base = GenerateConfig.from_yaml(args.config, "vla_data_generate") if args.config else None
    cfg = config_from_args(GenerateConfig, args, base)
    start = time.perf_counter()
    try:
        rows = generate(plan(scenarios, args.episodes, args.seed), args.out, cfg, args.workers,
                        address=args.address)
    except RuntimeError as exc:      # a Ray cluster that cannot be reached
        print(f"vla-train data generate: {exc}")
        return 2
    elapsed = time.perf_counter() - start
    failed = [r for r in rows if r.get("error")]
    rows = [r for r in rows if not r.get("error")]
    frames = sum(r["frames"] for r in rows)
    size = sum(f.stat().st_size for r in rows for f in Path(r["path"]).rglob("*") if f.is_file())
    print(f"{len(rows)} episodes, {frames} frames in {elapsed:.1f} s "
          f"({frames / max(elapsed, 1e-9):.1f} frames/s, {args.workers} worker(s)); "
          f"{size / 1e6:.1f} MB ({size / 1e6 / max(frames, 1) * 1000:.1f} MB per 1000 frames); "
          f"{sum(r['collision'] for r in rows)} episode(s) ended in a collision")
    for r in failed:
        print(f"FAILED {r['episode']}: {r['error']}")
    return 1 if failed else 0
