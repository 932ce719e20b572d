"""Closed-loop routes through the real nodes: the sim profile's bridge, planner and controller
in one process (the in-process bringup), lockstep on the bridge's /clock.

The route is scored from the simulator's ground truth after every bridge step (a hook on the
bridge core, so every step is seen exactly once); camera corruptions, when asked for, are
applied where the images are made, so every node downstream sees them as camera input.
Owned by the evaluation (the scoring itself lives in `vla_driving.evaluation`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from vla_driving.evaluation.closed_loop import (ClosedLoopConfig, instruction_command, new_route,
                                                track_step)
from vla_driving.evaluation.closed_loop_scoring import RouteLog
from vla_driving.evaluation.corruptions import corrupt_sim_cameras

from vla_driving.ros.session import ros_context
from vla_driving.ros.stack import Stack

log = logging.getLogger(__name__)
POLL_S = 0.05
STARTUP_WALL_S = 30.0          # node start-up and policy loading allowance per route
WALL_PER_SIM_S = 20.0          # a route may run this much slower than real time before it stops


MAX_RECORDED_INPUTS = 300     # planning cycles whose camera inputs are kept for the MCAP


@dataclass
class StackRoute:
    log: RouteLog
    wall_s: float
    sim_s: float
    control_timeouts: int
    finished: bool             # the route reached its end (time or an ending event) in time
    cycles: list = field(default_factory=list)   # (CycleResult, {camera: image} or None)
    text: object = None        # the planner's TextStats over the route (None: no text worker)


def _record_cycles(planner_node, cycles: list) -> None:
    """Keep every planning cycle's result (and the first cycles' camera inputs) as it happens."""
    core = planner_node.core
    cycle = core.cycle

    def recorded(now_ns: int):
        result = cycle(now_ns)
        if result.stamp_ns is not None:
            latest = core.ingest.history(1) if len(cycles) < MAX_RECORDED_INPUTS else []
            images = {c: f.image for c, f in latest[-1].frames.items()} if latest else None
            cycles.append((result, images))
        return result
    core.cycle = recorded


def _overrides(cfg: ClosedLoopConfig, scenario: str, seed: int, planner: dict) -> dict:
    bridge = {"scenario": scenario, "seed": int(seed), "instruction": cfg.instruction,
              "reset_on_done": False, "sim.max_duration_s": cfg.duration_s + 5.0}
    if cfg.look:
        bridge["sim.look"] = cfg.look
    overrides = {"sim_bridge": bridge, "vla_planner": dict(planner)}
    if cfg.control:  # the same adapter on both ends of the control topic
        bridge["control_type"] = cfg.control
        overrides["trajectory_controller"] = {"output": cfg.control}
    return overrides


def run_stack_route(cfg: ClosedLoopConfig, scenario: str, seed: int, policy: str,
                    planner: dict, corruption=None) -> StackRoute:
    """Drive one route with the planner configured by `planner` (policy, bundle overrides)."""
    with ros_context() as context:
        return _drive(cfg, scenario, seed, policy, planner, corruption, context)


def _drive(cfg: ClosedLoopConfig, scenario: str, seed: int, policy: str, planner: dict,
           corruption, context) -> StackRoute:
    start = time.monotonic()
    stack = None
    try:
        stack = Stack(cfg.profile, context=context,
                      extra_overrides=_overrides(cfg, scenario, seed, planner)).build()
        bridge = stack.nodes["sim_bridge"].bridge
        if corruption is not None:
            corrupt_sim_cameras(bridge.sim, corruption.name, corruption.severity, seed)
        cycles: list = []
        _record_cycles(stack.nodes["vla_planner"], cycles)
        tracker = new_route(bridge.sim, cfg, scenario, seed, policy)
        command = instruction_command(cfg)
        track_step(tracker, bridge.sim, None, command)
        step = bridge.step

        def scored_step(timed_out: bool = False):
            status = step(timed_out)
            if not tracker.ended and bridge.sim.time_s <= cfg.duration_s + 1e-9:
                # steps after the end (the bridge runs on until the stack stops) are not scored
                track_step(tracker, bridge.sim, status, command)
            return status
        bridge.step = scored_step
        stack.start()
        deadline = start + STARTUP_WALL_S + WALL_PER_SIM_S * cfg.duration_s
        while (not tracker.ended and bridge.sim.time_s < cfg.duration_s
               and time.monotonic() < deadline):
            time.sleep(POLL_S)
        finished = tracker.ended or bridge.sim.time_s >= cfg.duration_s
        tracker.end("time" if finished else "wall_timeout")
        text = stack.nodes["vla_planner"].core.text_stats()
        stack.destroy()
        stack = None
        return StackRoute(tracker.log, time.monotonic() - start, bridge.sim.time_s,
                          bridge.control_timeouts, finished, list(cycles), text)
    finally:
        if stack is not None:
            stack.destroy()
