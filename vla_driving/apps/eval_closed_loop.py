"""`vla-driving eval closed-loop --bundle B --scenarios ... --seeds ...`: drive routes in the
simulator through the real ROS 2 nodes and score them as the CARLA leaderboard does.

Policies in the same harness: the bundle's model (through the nodes), the constant-velocity
baseline (through the same nodes) and the IDM/MOBIL expert (driving the simulator directly).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from vla_driving.config_cli import add_config_arguments, config_from_args
from vla_driving.configuration import ConfigError
from vla_driving.evaluation.closed_loop import EXPERT, ClosedLoopConfig, run_expert_route
from vla_driving.evaluation.closed_loop_scoring import aggregate, by_leaderboard, score_route
from vla_driving.evaluation.corruptions import CORRUPTIONS, SEVERITIES
from vla_driving.evaluation.latency import drop_counts, latency_table
from vla_driving.evaluation.mcap_export import McapFrame, McapRecorder
from vla_driving.evaluation.replay import Corruption
from vla_driving.evaluation.report import (CLEAN, markdown_table, refuse_used_report_dir,
                                           to_jsonable)
from vla_driving.evaluation.summary import EvalSample
from vla_driving.policy.text_stats import TextStats
from vla_driving.resources import find_bundle

LOG = logging.getLogger(__name__)
MODEL, CONSTANT_VELOCITY = "model", "constant_velocity"
FIGURE = "driving_score.png"
LATENCY_FIGURE = "planner_latency.png"
MCAP_PREFIX = "predictions_mcap_"


CLI_DEFAULTS = ClosedLoopConfig(seeds=[1000, 1001])  # two held-out routes per scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=find_bundle, default="",
                        help="model bundle (omit: baselines only)")
    # the route options are ClosedLoopConfig's fields (declared once, validated like YAML)
    add_config_arguments(parser, ClosedLoopConfig, rename={"duration_s": "duration"},
                         base=CLI_DEFAULTS)
    parser.add_argument("--corruptions", nargs="*", default=[], metavar="NAME",
                        help=f"camera corruptions besides clean: {', '.join(CORRUPTIONS)}")
    parser.add_argument("--severity", type=int, default=3, choices=SEVERITIES)
    parser.add_argument("--no-expert", action="store_true", help="skip the IDM/MOBIL expert")
    parser.add_argument("--record", type=Path, default=None, metavar="DIR",
                        help="also record the expert's routes as bags DIR/<scenario>_<seed> "
                             "(for `eval replay`)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--out", type=Path, help="write report.md, metrics.json and a figure here")
    fast = parser.add_argument_group("fast sweep (ROS-free lockstep loop, same scoring)")
    fast.add_argument("--fast", action="store_true",
                      help="drive the routes in-process with the planner's and the "
                           "controller's own cores instead of through the ROS 2 nodes")
    fast.add_argument("--workers", type=int, default=1,
                      help="--fast: parallel route workers (more than 1: a local Ray instance)")
    fast.add_argument("--address", default=None,
                      help="--fast: run the routes on the Ray cluster at this address")
    fast.add_argument("--route-timeout", type=float, default=None, metavar="S",
                      help="--fast with Ray: a route running longer is retried once, then "
                           "reported as failed")


def _planners(bundle: str) -> dict[str, dict]:
    planners = {}
    if bundle:
        planners[MODEL] = {"policy": "vla", "bundle": bundle}
    planners[CONSTANT_VELOCITY] = {"policy": "constant_velocity"}
    return planners


def cycle_samples(route, scenario: str, seed: int) -> list[EvalSample]:
    """The planner's cycles of a route as EvalSamples (plans and per-stage latency, no labels)."""
    out = []
    for result, _ in route.cycles:
        plan = result.plan
        if plan is not None:
            plan = dataclasses.replace(plan, latency_s=dict(result.latency_s))
        out.append(EvalSample(stamp_ns=result.stamp_ns, episode=f"{scenario}_{seed}", plan=plan,
                              failed=result.error is not None,
                              degraded=result.status == "degraded"))
    return out


def mcap_frames(route, policy: str) -> list[McapFrame]:
    return [McapFrame(result.stamp_ns, images, {policy: result.plan})
            for result, images in route.cycles if images and result.plan is not None]


@dataclass
class ClosedLoopRun:
    results: dict = field(default_factory=dict)    # condition -> policy -> routes + summary
    samples: dict = field(default_factory=dict)    # condition -> policy -> [EvalSample]
    mcap: dict = field(default_factory=dict)       # policy -> frames of its first clean route
    sweep: dict = field(default_factory=dict)      # --fast: workers, throughput, every outcome


def run_closed_loop(cfg: ClosedLoopConfig, planners: dict[str, dict], corruptions: list,
                    expert: bool = True, record: Path | None = None) -> ClosedLoopRun:
    """Every route of every policy under every condition, scored; plus the planner cycles."""
    from vla_driving.apps.closed_loop_runner import run_stack_route
    run = ClosedLoopRun()
    for corruption in [None] + list(corruptions):
        condition = CLEAN if corruption is None else corruption.label
        rows: dict[str, list] = {}
        texts: dict[str, list] = {}     # policy -> [(TextStats, simulated s)] per route
        samples = run.samples.setdefault(condition, {})
        for scenario in cfg.scenarios:
            for seed in cfg.seeds:
                for name, planner in planners.items():
                    route = run_stack_route(cfg, scenario, seed, name, planner, corruption)
                    row = score_route(route.log, cfg.leaderboard)
                    row.update(wall_s=route.wall_s, control_timeouts=route.control_timeouts,
                               finished=route.finished)
                    rows.setdefault(name, []).append(row)
                    samples.setdefault(name, []).extend(cycle_samples(route, scenario, seed))
                    if route.text is not None:
                        texts.setdefault(name, []).append((route.text, route.sim_s))
                    if corruption is None and name not in run.mcap:
                        run.mcap[name] = mcap_frames(route, name)
                    LOG.info("%s %s seed %d %s: DS %.1f", condition, scenario, seed, name,
                             row["driving_score"])
                if expert and corruption is None:
                    bag = None if record is None else record / f"{scenario}_{seed}"
                    rows.setdefault(EXPERT, []).append(
                        score_route(run_expert_route(cfg, scenario, seed, record_to=bag),
                                    cfg.leaderboard))
        run.results[condition] = {n: _policy_results(r, cfg.scenarios) for n, r in rows.items()}
        for name, policy_samples in samples.items():
            run.results[condition][name]["planner"] = {
                "latency_ms": latency_table(s.plan.latency_s for s in policy_samples if s.plan),
                "drops": drop_counts(len(policy_samples), sum(s.plan is not None
                                                              for s in policy_samples),
                                     degraded=sum(s.degraded for s in policy_samples),
                                     failed=sum(s.failed for s in policy_samples))}
            if texts.get(name):
                run.results[condition][name]["planner"]["text"] = _text_summary(texts[name])
    return run


def _text_summary(routes: list) -> dict:
    """The planner's text counters over a policy's routes; the rate per simulated second."""
    stats = TextStats.merged([t for t, _ in routes])
    return stats.summary(span_s=sum(s for _, s in routes) or None)


def run_fast_closed_loop(cfg: ClosedLoopConfig, planners: dict[str, dict], expert: bool,
                         workers: int = 1, address: str | None = None,
                         timeout_s: float | None = None, corruptions: list = ()
                         ) -> ClosedLoopRun:
    """The same routes and scores through the ROS-free lockstep loop, as a sweep of tasks
    (`evaluation.sweep`): every route is listed with its outcome, failed ones included."""
    from vla_driving.evaluation.sweep import outcome_rows, route_tasks, run_sweep

    conditions = [(c.name, c.severity) for c in corruptions]
    sweep = run_sweep(cfg, route_tasks(cfg, planners, expert, conditions), workers, address,
                      timeout_s)
    names = list(planners) + ([EXPERT] if expert else [])
    run = ClosedLoopRun()
    run.results[CLEAN] = {n: _policy_results(sweep.rows(n), cfg.scenarios) for n in names}
    for c in corruptions:
        run.results[c.label] = {n: _policy_results(sweep.rows(n, c.label), cfg.scenarios)
                                for n in planners}
    sim_s = sum(o.row["sim_s"] for o in sweep.outcomes if o.ok)
    run.sweep = {
        "workers": sweep.workers, "wall_s": sweep.wall_s, "sim_s": sim_s,
        "x_realtime": sim_s / sweep.wall_s if sweep.wall_s > 0 else None,
        "failed_routes": len(sweep.failed()), "outcomes": outcome_rows(sweep)}
    return run


def _policy_results(rows: list[dict], scenarios: list[str]) -> dict:
    return {"summary": aggregate(rows), "by_leaderboard": by_leaderboard(rows), "routes": rows,
            "by_scenario": {s: aggregate([r for r in rows if r["scenario"] == s])
                            for s in scenarios}}


def scenario_rows(results: dict) -> list[dict]:
    """Per scenario and policy: driving score, collisions per km and comfort."""
    return [{"scenario": s, "policy": p, "routes": agg.get("routes"),
             "driving score": agg.get("driving_score"),
             "collisions / km": agg.get("collisions_per_km"),
             "p95 lat. accel (m/s2)": agg.get("lateral_accel_p95_mean"),
             "p95 jerk (m/s3)": agg.get("jerk_p95_mean"),
             "instruction success (%)": 100 * agg.get("instruction_success_rate", 0.0)}
            for p, v in results.get(CLEAN, {}).items() if "by_scenario" in v
            for s, agg in v["by_scenario"].items() if agg.get("routes")]


def leaderboard_rows(results: dict) -> list[dict]:
    """The same routes' driving score under each leaderboard version (1.0, 2.0, 2.1)."""
    return [{"condition": c, "policy": p, "leaderboard": version,
             "driving score": agg.get("driving_score"),
             "route completion (%)": agg.get("route_completion"),
             "infraction penalty": agg.get("infraction_penalty")}
            for c, policies in results.items() for p, v in policies.items()
            for version, agg in v.get("by_leaderboard", {}).items()]


def summary_rows(results: dict) -> list[dict]:
    return [{"condition": c, "policy": p, "routes": v["summary"].get("routes"),
             "driving score": v["summary"].get("driving_score"),
             "route completion (%)": v["summary"].get("route_completion"),
             "infraction penalty": v["summary"].get("infraction_penalty"),
             "instruction success (%)": 100 * v["summary"].get("instruction_success_rate", 0.0)}
            for c, policies in results.items() for p, v in policies.items()]


def _write_planner_outputs(out: Path, run: ClosedLoopRun) -> list[str]:
    from vla_driving.evaluation import figures
    lines = []
    if run.samples.get(CLEAN):
        figures.latency_histogram(out / LATENCY_FIGURE, run.samples[CLEAN])
        lines += ["", "## Planner latency per stage (ms, this machine), clean", ""]
        lines += markdown_table([{"policy": p, "stage": stage, **row}
                                 for p, v in run.results[CLEAN].items()
                                 for stage, row in v.get("planner", {}).get("latency_ms", {}).items()])
        lines += ["", f"![latency]({LATENCY_FIGURE})"]
        text_rows = [{"policy": p, **{k: t.get(k) for k in ("requested", "accepted",
                                                             "rejected", "failed", "parse_rate",
                                                             "rate_hz")},
                      "latency p50 (ms)": t.get("latency_ms", {}).get("p50")}
                     for p, v in run.results[CLEAN].items()
                     if (t := v.get("planner", {}).get("text"))]
        if text_rows:
            lines += ["", "## Planner scene text, clean (rejected: strict parser or no end; "
                      "never published)", ""] + markdown_table(text_rows)
    for policy, frames in run.mcap.items():
        if frames:
            with McapRecorder(out / f"{MCAP_PREFIX}{policy}") as recorder:
                for frame in frames:
                    recorder.add(frame)
            lines += ["", f"Inputs and plans of {policy}'s first route: `{MCAP_PREFIX}{policy}/` "
                          f"(MCAP, open in Foxglove)."]
    return lines


def write_closed_loop_report(out: Path, results: dict, settings: dict,
                             run: ClosedLoopRun | None = None) -> dict:
    from vla_driving.evaluation import figures
    out.mkdir(parents=True, exist_ok=True)
    sweep = run.sweep if run is not None else {}
    document = to_jsonable({"settings": settings, "results": results, "sweep": sweep})
    (out / "metrics.json").write_text(json.dumps(document, indent=2))
    figures.corruption_bars(out / FIGURE, {c: {p: v["summary"].get("driving_score")
                                               for p, v in pol.items()}
                                           for c, pol in results.items()}, "driving score")
    route_rows = [{"condition": c, "policy": p, **{k: r[k] for k in (
        "scenario", "seed", "driving_score", "route_completion", "infraction_penalty",
        "instruction_success", "ended_by")}} for c, pol in results.items()
        for p, v in pol.items() for r in v["routes"]]
    lines = ["# Closed-loop evaluation", ""] + [f"- {k}: {v}" for k, v in settings.items()]
    version = settings.get("leaderboard", "")
    lines += ["", f"## Summary (CARLA leaderboard {version})", ""]
    lines += markdown_table(summary_rows(results))
    lines += ["", "## Driving score under each leaderboard version", ""]
    lines += markdown_table(leaderboard_rows(results))
    if scenario_rows(results):
        lines += ["", "## Per scenario (clean)", ""] + markdown_table(scenario_rows(results))
    if sweep:
        lines += ["", f"Fast sweep: {sweep['workers']} worker(s), {sweep['x_realtime']:.1f}x real "
                      f"time, {sweep['failed_routes']} failed route(s)."]
    lines += ["", "## Routes", ""] + markdown_table(route_rows)
    lines += ["", f"![driving score]({FIGURE})"]
    lines += _write_planner_outputs(out, run) if run is not None else []
    lines += ["", "Scores as the CARLA leaderboard defines them; see docs/evaluation.md."]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return document


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        refuse_used_report_dir(args.out)
        cfg = config_from_args(ClosedLoopConfig, args, CLI_DEFAULTS)
        corruptions = [Corruption(n, args.severity) for n in args.corruptions]
        if args.bundle and not Path(args.bundle, "manifest.json").is_file():
            raise ConfigError(f"model bundle not found: {args.bundle} (no manifest.json)")
        if args.fast and args.record:
            raise ConfigError("--fast does not --record yet; drop --fast to record the "
                              "expert's routes through the nodes")
        taken = [f"{sc}_{seed}" for sc in cfg.scenarios for seed in cfg.seeds
                 if args.record and (args.record / f"{sc}_{seed}").exists()]
        if taken:   # the bag writer never overwrites (was a traceback at the expert's route)
            raise ConfigError(f"--record {args.record} already holds {', '.join(taken)}; "
                              "choose a new directory")
        if args.fast:
            run = run_fast_closed_loop(cfg, _planners(args.bundle), not args.no_expert,
                                       args.workers, args.address, args.route_timeout,
                                       corruptions)
        else:
            run = run_closed_loop(cfg, _planners(args.bundle), corruptions, not args.no_expert,
                                  args.record)
        results = run.results
    except RuntimeError as exc:          # e.g. a Ray cluster that cannot be reached
        print(f"vla-driving eval closed-loop: {exc}", file=sys.stderr)
        return 2
    except (ConfigError, ValueError) as exc:
        print(f"vla-driving eval closed-loop: {exc}", file=sys.stderr)
        return 2
    settings = {"bundle": args.bundle or "(none: baselines only)", **cfg.to_dict(),
                "corruptions": [c.label for c in corruptions]}
    document = (write_closed_loop_report(args.out, results, settings, run) if args.out
                else to_jsonable({"settings": settings, "results": results, "sweep": run.sweep}))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2))
    print("\n".join(markdown_table(summary_rows(results))))
    if scenario_rows(results):
        print("\n" + "\n".join(markdown_table(scenario_rows(results))))
    sweep = run.sweep
    if sweep:
        print(f"\n{sweep['sim_s']:.0f} s simulated in {sweep['wall_s']:.0f} s "
              f"({sweep['x_realtime']:.1f}x real time, {sweep['workers']} worker(s)); "
              f"{sweep['failed_routes']} route(s) failed"
              + "".join(f"\n  FAILED {o['scenario']} seed {o['seed']} {o['policy']}: {o['error']}"
                        for o in sweep["outcomes"] if not o["ok"]))
    if args.out:
        print(f"\nreport: {args.out / 'report.md'}")
    return 0
