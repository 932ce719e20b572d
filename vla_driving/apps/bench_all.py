"""`vla-driving bench all --json PATH`: every benchmark in one run, one JSON, so regressions show.

Runs each bench through its own command-line entry (`bench ingest`, `bench engines`, `bench
stack`, `bench gpu` on whatever device there is), then times what no other bench does: an
open-loop replay of a freshly recorded held-out route (`replay_x_realtime`: recorded seconds over
wall seconds, the bundle's model and the constant-velocity baseline, as `eval replay` runs them)
and the ROS-free closed loop (`fast_loop_x_realtime`). The headline keys sit at the top level:
`first_plan_ms`, `steady_infer_p50_ms` (from `bench gpu`'s bundle part), `replay_x_realtime`,
`fast_loop_x_realtime`, `node_overhead` (from `bench stack`), `first_plan_warm_ms` and
`first_plan_ratio_warm` / `_cold` (from `bench warm`: the first plan after configure over the
steady p50, with and without the warm-up); each bench's own figures under `benches`. A bench
that fails is recorded with its error; the others still run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import io
import json
import platform
import tempfile
import time
import traceback
from pathlib import Path

from vla_driving.apps.tables import format_table
from vla_driving.resources import find_bundle

BENCHES = ("ingest", "engines", "stack", "gpu", "warm", "replay", "fast_loop")
REPLAY_SCENARIO, REPLAY_SEED = "highway", 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=find_bundle, default="models/default",
                        help="bundle to benchmark")
    parser.add_argument("--json", type=Path, required=True, help="write every figure here")
    parser.add_argument("--only", nargs="+", choices=BENCHES, default=list(BENCHES),
                        help="run these benches only")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of each timed bench (ingest, stack) and of the routes")
    parser.add_argument("--cycles", type=int, default=100,
                        help="bench gpu: planning cycles (500 on a GPU machine)")


def _module_bench(module: str, argv: list[str]) -> dict:
    """Run `module`'s CLI with `argv` plus a --json file; its figures, its output kept quiet."""
    mod = importlib.import_module(module)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        parser = argparse.ArgumentParser()
        mod.add_arguments(parser)
        args = parser.parse_args(argv + ["--json", str(out)])
        with contextlib.redirect_stdout(io.StringIO()):
            rc = mod.main(args)
        figures = json.loads(out.read_text()) if out.is_file() else {}
    if rc:
        figures["rc"] = rc
    return figures


def _replay(bundle: str, duration_s: float) -> dict:
    from vla_driving.apps.eval_replay import run_replay
    from vla_driving.data.bag_reader import read_bag
    from vla_driving.data.topics import BagTopics
    from vla_driving.evaluation.closed_loop import ClosedLoopConfig, run_expert_route
    from vla_driving.evaluation.policies import baseline_policies, load_model_policy
    from vla_driving.evaluation.replay import ReplayConfig

    cfg = ReplayConfig()
    with tempfile.TemporaryDirectory() as tmp:
        bag_dir = Path(tmp) / "route"
        run_expert_route(ClosedLoopConfig(seeds=[REPLAY_SEED], duration_s=duration_s),
                         REPLAY_SCENARIO, REPLAY_SEED, record_to=bag_dir)
        bag = read_bag(bag_dir, BagTopics().for_cameras(list(cfg.cameras)))
        policies = {"model": load_model_policy(bundle, cfg.torch_threads), **baseline_policies()}
        start = time.perf_counter()
        runs, _ = run_replay([bag], policies, cfg, [])
        wall = time.perf_counter() - start
    frames = sum(len(samples) for samples in runs["clean"].values())
    return {"recorded_s": duration_s, "wall_s": wall, "cycles": frames,
            "replay_x_realtime": duration_s / wall, "policies": sorted(policies)}


def _fast_loop(bundle: str, duration_s: float) -> dict:
    from vla_driving.evaluation.closed_loop import ClosedLoopConfig
    from vla_driving.evaluation.lockstep import profile_configs, run_lockstep_route
    from vla_driving.policy.factory import make_policy

    cfg = ClosedLoopConfig(seeds=[REPLAY_SEED], duration_s=duration_s)
    planner = {"policy": "vla", "bundle": bundle, "text_period_s": 0.0}
    _, planner_cfg, _ = profile_configs(cfg, REPLAY_SCENARIO, REPLAY_SEED, planner)
    policy = make_policy(planner_cfg)
    try:
        route = run_lockstep_route(cfg, REPLAY_SCENARIO, REPLAY_SEED, "model", policy, planner)
    finally:
        policy.close()
    return {"sim_s": route.sim_s, "wall_s": route.wall_s, "plans": route.plans,
            "fast_loop_x_realtime": route.sim_s / route.wall_s}


def run_benches(args) -> dict:
    d = str(args.duration)
    plan = {
        "ingest": lambda: _module_bench("vla_driving.apps.bench_ingest", ["--duration", d]),
        "engines": lambda: _module_bench("vla_driving.apps.bench_engines",
                                         ["--bundle", args.bundle]),
        "stack": lambda: _module_bench("vla_driving.apps.bench_stack",
                                       ["--bundle", args.bundle, "--duration", d]),
        "gpu": lambda: _module_bench("vla_driving.apps.bench_gpu",
                                     ["--bundle", args.bundle, "--parts", "bundle",
                                      "--cycles", str(args.cycles)]),
        "warm": lambda: _module_bench("vla_driving.apps.bench_warm",
                                      ["--bundle", args.bundle, "--repeats", "1"]),
        "replay": lambda: _replay(args.bundle, args.duration),
        "fast_loop": lambda: _fast_loop(args.bundle, args.duration),
    }
    benches = {}
    for name in args.only:
        start = time.perf_counter()
        try:
            benches[name] = plan[name]()
        except Exception as exc:  # noqa: BLE001 - recorded, the other benches still run
            benches[name] = {"error": f"{type(exc).__name__}: {exc}",
                             "traceback": traceback.format_exc(limit=5)}
        benches[name]["bench_wall_s"] = time.perf_counter() - start
    return benches


def headline(benches: dict) -> dict:
    """The figures regressions are read from, wherever each bench put them."""
    gpu, stack, warm = benches.get("gpu", {}), benches.get("stack", {}), benches.get("warm", {})
    return {"first_plan_ms": gpu.get("first_plan_ms"),
            "steady_infer_p50_ms": gpu.get("steady_infer_p50_ms"),
            "device": gpu.get("device"),
            "first_plan_warm_ms": warm.get("first_plan_warm_ms"),
            "first_plan_ratio_warm": warm.get("ratio_warm"),
            "first_plan_ratio_cold": warm.get("ratio_cold"),
            "replay_x_realtime": benches.get("replay", {}).get("replay_x_realtime"),
            "fast_loop_x_realtime": benches.get("fast_loop", {}).get("fast_loop_x_realtime"),
            "node_overhead": stack.get("node_overhead")}


def main(args) -> int:
    benches = run_benches(args)
    document = {**headline(benches), "date": datetime.date.today().isoformat(),
                "machine": platform.platform(), "bundle": args.bundle, "benches": benches}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=1, default=str))
    rows = [(k, "-" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v))
            for k, v in headline(benches).items()]
    rows += [(f"bench {n}", "error: " + b["error"] if "error" in b
              else f"ok ({b['bench_wall_s']:.0f} s)") for n, b in benches.items()]
    print(format_table(["figure", "value"], rows))
    print(f"\nall figures: {args.json}")
    return 1 if all("error" in b for b in benches.values()) else 0
