"""`vla-driving demo` (`make demo`): the main job in a few minutes on a CPU machine.

1. Closed loop: the default bundle drives a held-out highway route for a minute of simulated
   time through the real ROS 2 nodes (sim bridge, planner, controller, lockstep /clock); the
   constant-velocity baseline drives the same route through the same nodes, and the IDM/MOBIL
   expert drives it directly while the route is recorded to a bag.
2. Open loop: that recorded episode is replayed through the planner's ingest and policy, for
   the model and the baselines.
3. A summary table and the report directory.
Without the default bundle it says so and exits non-zero: it never swaps in a baseline silently
(`--baseline-only` runs the same job with the baselines, labelled as such).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from vla_driving.data.bag_reader import read_bag
from vla_driving.evaluation.closed_loop import EXPERT, ClosedLoopConfig
from vla_driving.apps.eval_closed_loop import (MODEL, _planners, run_closed_loop,
                                               write_closed_loop_report)
from vla_driving.evaluation.policies import EXPERT_RECORDED, baseline_policies, load_model_policy
from vla_driving.evaluation.replay import ReplayConfig
from vla_driving.apps.eval_replay import run_replay
from vla_driving.evaluation.report import CLEAN, headline, markdown_table, write_report
from vla_driving.resources import package_file

LOG = logging.getLogger(__name__)
DEFAULT_BUNDLE = Path("models") / "default"
EPISODES_DIR = "expert_episodes"


def default_bundle() -> Path:
    """models/default of the source tree, else of the installed share directory."""
    return package_file(DEFAULT_BUNDLE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=Path, default=None, help="bundle (default: models/default)")
    parser.add_argument("--duration", type=float, default=60.0, help="simulated seconds")
    parser.add_argument("--scenario", default="highway")
    parser.add_argument("--seed", type=int, default=1000, help="held-out episode seed")
    parser.add_argument("--out", type=Path, default=None, help="report directory")
    parser.add_argument("--baseline-only", action="store_true",
                        help="run without a model bundle (baselines only, labelled as such)")


def _summary(closed: dict, replay: dict) -> list[dict]:
    out = []
    for name, value in closed[CLEAN].items():
        route = value["routes"][0]
        replayed = EXPERT_RECORDED if name == EXPERT else name
        open_loop = headline(replay[CLEAN][replayed]) if replayed in replay[CLEAN] else {}
        out.append({"policy": name, "driving score": route["driving_score"],
                    "route completion (%)": route["route_completion"],
                    "infractions": sum(route["infractions"].values()),
                    "sim s": route["duration_s"], "wall s": route.get("wall_s"),
                    "replay L2 UniAD (m)": open_loop.get("L2 avg UniAD (m)"),
                    "replay L2 ST-P3 (m)": open_loop.get("L2 avg ST-P3 (m)"),
                    "replay collision (%)": open_loop.get("collision avg UniAD (%)")})
    return out


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    bundle = args.bundle or default_bundle()
    if not args.baseline_only and not (bundle / "manifest.json").is_file():
        print(f"vla-driving demo: the model bundle is missing ({bundle}/manifest.json not "
              f"found). Build it first (see docs/training.md), or run "
              f"`vla-driving demo --baseline-only` to see the job with the baselines only.",
              file=sys.stderr)
        return 1
    out = args.out or Path("reports") / time.strftime("demo-%Y%m%d-%H%M%S")
    used = [name for name in (EPISODES_DIR, "replay", "closed_loop") if (out / name).exists()]
    if used:   # the episode recorder and the MCAP writer never overwrite (was a traceback)
        print(f"vla-driving demo: --out {out} already holds {', '.join(used)} of an earlier "
              "demo; choose a new directory", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    cfg = ClosedLoopConfig(scenarios=[args.scenario], seeds=[args.seed], duration_s=args.duration)
    planners = _planners("" if args.baseline_only else str(bundle))
    started = time.monotonic()
    run = run_closed_loop(cfg, planners, [], expert=True, record=out / EPISODES_DIR)
    closed = run.results
    replay_cfg = ReplayConfig()
    policies = baseline_policies()
    if not args.baseline_only:
        policies = {MODEL: load_model_policy(str(bundle), replay_cfg.torch_threads), **policies}
    episode = out / EPISODES_DIR / f"{args.scenario}_{args.seed}"
    runs, frames = run_replay([read_bag(episode)], policies, replay_cfg, [])
    settings = {"title": "Demo: open-loop replay of the expert's route", "bundle":
                "(baselines only)" if args.baseline_only else str(bundle), "seed": args.seed,
                "scenario": args.scenario}
    replay_doc = write_report(out / "replay", runs, settings, mcap_frames=frames)
    write_closed_loop_report(out / "closed_loop", closed, {**settings, **cfg.to_dict(),
                                                           "title": "Demo closed loop"}, run)
    for policy in policies.values():
        policy.close()
    print(f"\nvla-driving demo ({args.scenario}, seed {args.seed}, {args.duration:.0f} s "
          f"simulated, {time.monotonic() - started:.0f} s wall)\n")
    print("\n".join(markdown_table(_summary(closed, replay_doc["results"]))))
    print(f"\nreports: {out / 'closed_loop' / 'report.md'}  {out / 'replay' / 'report.md'}")
    if args.baseline_only:
        print("(baselines only: no model bundle was used)")
    return 0
