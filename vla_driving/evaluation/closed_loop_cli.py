"""`vla-driving eval closed-loop --bundle B --scenarios ... --seeds ...`: drive routes in the
simulator through the real ROS 2 nodes and score them as the CARLA leaderboard does.

Policies in the same harness: the bundle's model (through the nodes), the constant-velocity
baseline (through the same nodes) and the IDM/MOBIL expert (driving the simulator directly).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ..configuration import ConfigError
from .closed_loop import EXPERT, ClosedLoopConfig, run_expert_route
from .closed_loop_scoring import aggregate, score_route
from .corruptions import CORRUPTIONS, SEVERITIES
from .replay import Corruption
from .report import CLEAN, markdown_table, to_jsonable

LOG = logging.getLogger(__name__)
MODEL, CONSTANT_VELOCITY = "model", "constant_velocity"
FIGURE = "driving_score.png"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", default="", help="model bundle (omit: baselines only)")
    parser.add_argument("--scenarios", nargs="+", default=["highway"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1000, 1001])
    parser.add_argument("--duration", type=float, default=20.0, help="simulated s per route")
    parser.add_argument("--instruction", default="keep the current lane")
    parser.add_argument("--corruptions", nargs="*", default=[], metavar="NAME",
                        help=f"camera corruptions besides clean: {', '.join(CORRUPTIONS)}")
    parser.add_argument("--severity", type=int, default=3, choices=SEVERITIES)
    parser.add_argument("--no-expert", action="store_true", help="skip the IDM/MOBIL expert")
    parser.add_argument("--record", type=Path, default=None, metavar="DIR",
                        help="also record the expert's routes as bags DIR/<scenario>_<seed> "
                             "(for `eval replay`)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--out", type=Path, help="write report.md, metrics.json and a figure here")


def _planners(bundle: str) -> dict[str, dict]:
    planners = {}
    if bundle:
        planners[MODEL] = {"policy": "vla", "bundle": bundle}
    planners[CONSTANT_VELOCITY] = {"policy": "constant_velocity"}
    return planners


def run_closed_loop(cfg: ClosedLoopConfig, planners: dict[str, dict], corruptions: list,
                    expert: bool = True, record: Path | None = None) -> dict:
    """{condition: {policy: {"routes": [...], "summary": {...}}}}."""
    from ..ros.closed_loop_runner import run_stack_route
    results: dict = {}
    for corruption in [None] + list(corruptions):
        condition = CLEAN if corruption is None else corruption.label
        rows: dict[str, list] = {}
        for scenario in cfg.scenarios:
            for seed in cfg.seeds:
                for name, planner in planners.items():
                    route = run_stack_route(cfg, scenario, seed, name, planner, corruption)
                    row = score_route(route.log)
                    row.update(wall_s=route.wall_s, control_timeouts=route.control_timeouts,
                               finished=route.finished)
                    rows.setdefault(name, []).append(row)
                    LOG.info("%s %s seed %d %s: DS %.1f", condition, scenario, seed, name,
                             row["driving_score"])
                if expert and corruption is None:
                    bag = None if record is None else record / f"{scenario}_{seed}"
                    rows.setdefault(EXPERT, []).append(
                        score_route(run_expert_route(cfg, scenario, seed, record_to=bag)))
        results[condition] = {n: {"summary": aggregate(r), "routes": r} for n, r in rows.items()}
    return results


def summary_rows(results: dict) -> list[dict]:
    return [{"condition": c, "policy": p, "routes": v["summary"].get("routes"),
             "driving score": v["summary"].get("driving_score"),
             "route completion (%)": v["summary"].get("route_completion"),
             "infraction penalty": v["summary"].get("infraction_penalty"),
             "instruction success (%)": 100 * v["summary"].get("instruction_success_rate", 0.0)}
            for c, policies in results.items() for p, v in policies.items()]


def write_closed_loop_report(out: Path, results: dict, settings: dict) -> dict:
    from . import figures
    out.mkdir(parents=True, exist_ok=True)
    document = to_jsonable({"settings": settings, "results": results})
    (out / "metrics.json").write_text(json.dumps(document, indent=2))
    figures.corruption_bars(out / FIGURE, {c: {p: v["summary"].get("driving_score")
                                               for p, v in pol.items()}
                                           for c, pol in results.items()}, "driving score")
    route_rows = [{"condition": c, "policy": p, **{k: r[k] for k in (
        "scenario", "seed", "driving_score", "route_completion", "infraction_penalty",
        "instruction_success", "ended_by")}} for c, pol in results.items()
        for p, v in pol.items() for r in v["routes"]]
    lines = ["# Closed-loop evaluation", ""] + [f"- {k}: {v}" for k, v in settings.items()]
    lines += ["", "## Summary", ""] + markdown_table(summary_rows(results))
    lines += ["", "## Routes", ""] + markdown_table(route_rows)
    lines += ["", f"![driving score]({FIGURE})", "",
              "Scores as the CARLA leaderboard defines them; see docs/evaluation.md."]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return document


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = ClosedLoopConfig(scenarios=list(args.scenarios), seeds=list(args.seeds),
                               duration_s=args.duration, instruction=args.instruction)
        corruptions = [Corruption(n, args.severity) for n in args.corruptions]
        if args.bundle and not Path(args.bundle, "manifest.json").is_file():
            raise ConfigError(f"model bundle not found: {args.bundle} (no manifest.json)")
        results = run_closed_loop(cfg, _planners(args.bundle), corruptions, not args.no_expert,
                                  args.record)
    except (ConfigError, ValueError) as exc:
        print(f"vla-driving eval closed-loop: {exc}", file=sys.stderr)
        return 2
    settings = {"bundle": args.bundle or "(none: baselines only)", **cfg.to_dict(),
                "corruptions": [c.label for c in corruptions]}
    document = (write_closed_loop_report(args.out, results, settings) if args.out
                else to_jsonable({"settings": settings, "results": results}))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2))
    print("\n".join(markdown_table(summary_rows(results))))
    if args.out:
        print(f"\nreport: {args.out / 'report.md'}")
    return 0
