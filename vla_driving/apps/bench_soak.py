"""`vla-driving bench soak [--sim-minutes 60] [--json P]`: an hour of simulated driving through
the ROS-free lockstep loop with the default bundle, routes chained with successive seeds; RSS
and per-plan latency every `--sample-every` simulated seconds. Prints one row per window and a
summary: start / after-warm-up / end RSS, growth (target <= `--max-rss-growth` %, rc 1 past it)
and the latency p50 of the first and the last window.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from vla_driving.apps.tables import format_table
from vla_driving.evaluation.soak import SoakResult, SoakWindow, run_soak
from vla_driving.resources import find_bundle

DEFAULT_SEED = 1000          # held-out seeds, as the closed-loop evaluation drives


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=find_bundle, default="models/default")
    parser.add_argument("--baseline", action="store_true",
                        help="drive the constant-velocity baseline instead of the bundle")
    parser.add_argument("--sim-minutes", type=float, default=60.0,
                        help="simulated minutes to drive in all")
    parser.add_argument("--sample-every", type=float, default=60.0, metavar="S",
                        help="simulated seconds per window")
    parser.add_argument("--route-s", type=float, default=120.0,
                        help="simulated seconds of one route (routes also end on a collision)")
    parser.add_argument("--scenario", default="highway")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="first route's seed")
    parser.add_argument("--text-period", type=float, default=0.0, metavar="S",
                        help="scene text every S seconds in the policy's text worker (0: off)")
    parser.add_argument("--max-rss-growth", type=float, default=5.0, metavar="PCT",
                        help="RSS growth target after warm-up (%%); rc 1 past it")
    parser.add_argument("--json", type=Path, help="write the windows and summary here")


def planner_overrides(args) -> dict:
    if args.baseline:
        return {"policy": "constant_velocity"}
    return {"policy": "vla", "bundle": args.bundle, "text_period_s": args.text_period}


WINDOW_HEADERS = ("sim min", "wall s", "route", "RSS MiB", "plans", "p50 ms", "p90 ms")
ROW = "{:>8} {:>8} {:>6} {:>9} {:>6} {:>8} {:>8}"


def window_line(w: SoakWindow) -> str:
    def f(v):
        return "-" if v is None else f"{v:.1f}"
    return ROW.format(f"{w.sim_s / 60:.2f}", f"{w.wall_s:.0f}", w.route,
                      f"{w.rss_bytes / 2**20:.1f}", w.plans, f(w.p50_ms), f(w.p90_ms))


def summary_table(summary: dict, target_pct: float) -> str:
    def f(v, spec=".1f"):
        return "-" if v is None else format(v, spec)
    verdict = "ok" if summary["rss_growth_pct"] <= target_pct else "OVER TARGET"
    rows = [("simulated / wall", f"{summary['sim_s'] / 60:.1f} min / {summary['wall_s']:.0f} s"),
            ("routes (ended by)", f"{summary['routes']} {summary['ended_by']}"),
            ("plans", summary["plans"]),
            ("RSS start / warm / end / peak (MiB)",
             " / ".join(f(summary[k]) for k in ("start_rss_mb", "warm_rss_mb", "end_rss_mb",
                                                 "peak_rss_mb"))),
            ("RSS growth after warm-up", f"{summary['rss_growth_pct']:+.2f} % "
                                         f"(target <= {target_pct:g} %: {verdict})"),
            ("latency p50 first / last window (ms)",
             f"{f(summary['first_p50_ms'])} / {f(summary['last_p50_ms'])} "
             f"(drift {f(summary['p50_drift_pct'], '+.1f')} %)")]
    return format_table(("soak", "value"), rows)


def document(args, result: SoakResult) -> dict:
    return {"settings": {k: (str(v) if isinstance(v, Path) else v)
                         for k, v in vars(args).items() if k != "func"},
            "summary": result.summary(), "routes": result.routes,
            "windows": [vars(w) for w in result.windows]}


def main(args) -> int:
    from vla_driving.evaluation.lockstep import profile_configs
    from vla_driving.evaluation.closed_loop import ClosedLoopConfig
    from vla_driving.policy.factory import make_policy

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    planner = planner_overrides(args)
    cfg = ClosedLoopConfig(scenarios=[args.scenario], seeds=[args.seed])
    _, planner_cfg, _ = profile_configs(cfg, args.scenario, args.seed, planner)
    policy = make_policy(planner_cfg)
    print(ROW.format(*WINDOW_HEADERS), flush=True)
    try:
        result = run_soak(policy, 60.0 * args.sim_minutes, args.sample_every, args.scenario,
                          args.seed, args.route_s, planner,
                          on_window=lambda w: print(window_line(w), flush=True))
    finally:
        policy.close()
    summary = result.summary()
    print()
    print(summary_table(summary, args.max_rss_growth))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document(args, result), indent=1))
        print(f"\nall figures: {args.json}")
    return 0 if summary["rss_growth_pct"] <= args.max_rss_growth else 1
