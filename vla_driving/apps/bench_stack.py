"""`vla-driving bench stack --bundle B [--json PATH]`: the sim profile in real time, with figures.

Prints planner latency percentiles per stage, the controller's wall-clock rate jitter, and the
node overhead: the planner node's cycle (frames -> observation -> infer -> messages published)
divided by bare `DrivingPolicy.infer` on the same observation, timed next to the node's own call
in the same cycle (before and after on alternate cycles), so both see the same load (target
<= 1.1); the paired call is subtracted from the node cycle. The bare policy timed alone after the run is printed too.
`--bundle constant_velocity` runs the baseline policy.
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from vla_driving.evaluation.profiles import profile_path
from vla_driving.policy.base import DrivingPolicy
from vla_driving.policy.factory import make_policy
from vla_driving.policy.planner_outputs import percentiles
from vla_driving.policy.wrappers import PolicyWrapper
from vla_driving.resources import find_bundle

DEFAULT_PROFILE = profile_path("sim.yaml")   # the checkout's, else the installed share's
BASELINE = "constant_velocity"
MAX_CAPTURED = 500


class Capture(PolicyWrapper):
    """Keeps the observations the node planned on and, right after each node call, times the
    bare policy on the same observation under the same load (side by side, as DESIGN asks)."""

    def __init__(self, inner: DrivingPolicy) -> None:
        super().__init__(inner)
        self.observations = []
        self.paired_bare_s: list[float] = []
        self.base = getattr(inner, "inner", inner)   # below the text scheduler

    def infer(self, observation):
        if len(self.observations) < MAX_CAPTURED:
            self.observations.append(observation)
        bare_first = len(self.paired_bare_s) % 2 == 0   # alternate: no warm-cache bias
        if not bare_first:
            plan = self.inner.infer(observation)
        start = time.perf_counter()
        self.base.infer(observation)
        self.paired_bare_s.append(time.perf_counter() - start)
        if bare_first:
            plan = self.inner.infer(observation)
        return plan

    def take_text(self):
        return self.inner.take_text() if hasattr(self.inner, "take_text") else []


def add_arguments(parser) -> None:
    parser.add_argument("--bundle", type=find_bundle, default="models/default",
                        help=f"model bundle directory, or '{BASELINE}' for the baseline")
    parser.add_argument("--config", default=str(DEFAULT_PROFILE), help="profile YAML (sim)")
    parser.add_argument("--duration", type=float, default=10.0, help="wall seconds to run")
    parser.add_argument("--rate", type=float, default=None, help="planning rate override (Hz)")
    parser.add_argument("--text-period", type=float, default=0.0,
                        help="scene-text period during the run (0: only on request, so text "
                             "decoding does not compete with the timed action path)")
    parser.add_argument("--bridge-process", action=argparse.BooleanOptionalAction, default=True,
                        help="run the simulator bridge as its own process (default) or in this one")
    parser.add_argument("--json", default=None, help="also write the figures as JSON here")


def start_bridge_process(config: str) -> subprocess.Popen:
    """The simulator bridge as its own process, in real time (as a car's sensors would be)."""
    cmd = [sys.executable, "-m", "vla_driving.ros.sim_bridge_node", "--ros-args",
           "--params-file", str(config), "-p", "synchronous:=false", "-p", "wait_for_plan:=false"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_stack(args) -> tuple[dict, Capture]:
    from vla_driving.ros.session import ros_context

    captured: dict = {}

    def factory(cfg):
        captured["policy"] = Capture(make_policy(cfg))
        return captured["policy"]

    nodes = ["vla_planner", "trajectory_controller"]
    bridge = None
    if args.bridge_process:
        bridge = start_bridge_process(args.config)
    else:
        nodes.insert(0, "sim_bridge")
    try:
        with ros_context() as context:
            figures = _measure(args, context, nodes, factory)
    finally:
        if bridge is not None:
            stop_process(bridge)
    figures["paired_bare_s"] = list(captured["policy"].paired_bare_s)
    return figures, captured["policy"]


def _measure(args, context, nodes: list[str], factory) -> dict:
    """The stack in real time for `args.duration`; its latencies and controller ticks."""
    from vla_driving.ros.stack import Stack

    stack = Stack(args.config, context=context, nodes=nodes,
                  extra_overrides={"vla_planner": planner_overrides(args),
                                   "sim_bridge": {"synchronous": False, "wait_for_plan": False},
                                   # real time: the controller ticks on its timer, not in lockstep
                                   "trajectory_controller": {"lockstep_topic": ""}},
                  node_kwargs={"vla_planner": {"policy_factory": factory}})
    try:
        stack.start()
        time.sleep(args.duration)
        planner_node = stack.nodes["vla_planner"]
        controller = stack.nodes["trajectory_controller"]
        return {"latency_s": {k: list(v) for k, v in planner_node.core.latencies.items()},
                "ticks": list(controller.tick_wall_s), "rate_hz": planner_node.cfg.rate_hz,
                "control_rate_hz": controller.cfg.rate_hz, "cycles": planner_node.core.cycles,
                "errors": planner_node.core.errors}
    finally:
        stack.destroy()


def planner_overrides(args) -> dict:
    planner = {"policy": BASELINE} if args.bundle == BASELINE else {"policy": "vla",
                                                                    "bundle": args.bundle}
    planner["text_period_s"] = args.text_period
    planner["sync_with_frames"] = False          # real time: the planner runs on its timer
    if args.rate:
        planner["rate_hz"] = args.rate
    return planner


def stop_process(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """SIGINT (a clean rclpy shutdown), then SIGKILL if it does not exit in time."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def bare_infer_s(policy: Capture) -> list[float]:
    """Bare policy.infer on the captured observations, alone, after the run."""
    times = []
    for obs in policy.observations:
        start = time.perf_counter()
        policy.base.infer(obs)
        times.append(time.perf_counter() - start)
    return times


def node_minus_paired(figures: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per cycle: the node cycle without the paired bare call it contained, and that call."""
    node = np.asarray(figures["latency_s"].get("node_cycle", []))
    bare = np.asarray(figures["paired_bare_s"])
    n = min(len(node), len(bare))
    node, bare = node[len(node) - n:], bare[len(bare) - n:]
    return node - bare, bare


def summarise(figures: dict, bare: list[float]) -> dict:
    periods = np.diff(figures["ticks"]) if len(figures["ticks"]) > 1 else np.array([])
    nominal = 1.0 / figures["control_rate_hz"]
    node_s, paired = node_minus_paired(figures)
    node, paired_median = np.median(node_s), np.median(paired)
    figures["latency_s"]["node_cycle"] = list(node_s)
    figures["latency_s"]["paired_bare_infer"] = list(paired)
    return {
        "device": f"{platform.processor() or platform.machine()} ({platform.node()})",
        "planner_ms": {k: {p: 1000 * v for p, v in percentiles(vals).items()}
                       for k, vals in figures["latency_s"].items()},
        "planner_cycles": figures["cycles"], "planner_errors": figures["errors"],
        "controller": {"ticks": len(figures["ticks"]), "nominal_ms": 1000 * nominal,
                       "period_mean_ms": 1000 * float(np.mean(periods)) if periods.size else None,
                       "jitter_std_ms": 1000 * float(np.std(periods)) if periods.size else None,
                       "jitter_p99_abs_ms": 1000 * float(np.percentile(np.abs(periods - nominal), 99))
                       if periods.size else None},
        "isolated_bare_infer_ms": {p: 1000 * v for p, v in percentiles(bare).items()},
        "node_overhead": float(node / paired_median) if len(paired) else None,
        "node_overhead_target": 1.1,
        "node_over_isolated_bare": float(node / np.median(bare)) if bare else None,
    }


def print_table(summary: dict) -> None:
    print(f"device: {summary['device']}")
    print(f"{'stage':<18}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
    rows = dict(summary["planner_ms"], isolated_bare=summary["isolated_bare_infer_ms"])
    for stage, p in rows.items():
        print(f"{stage:<18}" + "".join(f"{p.get(k, float('nan')):>10.2f}" for k in ("p50", "p90", "p99")))
    c = summary["controller"]
    print(f"controller: {c['ticks']} ticks, period mean {c['period_mean_ms']} ms "
          f"(nominal {c['nominal_ms']:.1f}), jitter std {c['jitter_std_ms']} ms, "
          f"p99 |dev| {c['jitter_p99_abs_ms']} ms")
    print(f"node overhead (node cycle / bare infer side by side, medians): "
          f"{summary['node_overhead']:.3f} (target <= {summary['node_overhead_target']}); "
          f"vs bare infer alone after the run: {summary['node_over_isolated_bare']:.3f}")


def main(args) -> int:
    import torch
    torch.set_num_threads(2)
    figures, policy = run_stack(args)
    summary = summarise(figures, bare_infer_s(policy))
    summary.update({"bundle": args.bundle, "config": args.config, "duration_s": args.duration,
                    "bridge_process": args.bridge_process})
    print_table(summary)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    policy.close()
    return 0
