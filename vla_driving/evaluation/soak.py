"""Soak: the ROS-free lockstep closed loop (`evaluation.lockstep`) driven for a long span of
simulated time, routes chained with successive seeds (a route ends at its duration, a collision
or leaving the road), RSS and per-plan latency sampled every `sample_every_s` simulated seconds.

Memory growth is read against the RSS after the first window, not at start: loading the bundle
and the first plans (allocator pools, lazily built kernels) are warm-up, not a leak. Latency is
the planner cycle on the wall clock (prepare + infer, what `PlannerCore` records per plan).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from vla_driving.evaluation.closed_loop import (ClosedLoopConfig, instruction_command, new_route,
                                                track_step)
from vla_driving.evaluation.lockstep import LockstepLoop, profile_configs
from vla_driving.policy.base import DrivingPolicy

PAGE_KIB = 1024


def rss_bytes() -> int:
    """This process's resident set size (Linux /proc; psutil elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * PAGE_KIB
    except OSError:
        pass
    import psutil
    return int(psutil.Process().memory_info().rss)


@dataclass
class SoakWindow:
    """One sampling window: where it ended and what the plans in it took."""

    sim_s: float               # simulated time at the end of the window, over all routes
    wall_s: float
    rss_bytes: int
    plans: int
    p50_ms: float | None
    p90_ms: float | None
    route: int                 # routes started so far


@dataclass
class SoakResult:
    windows: list[SoakWindow] = field(default_factory=list)
    routes: list[dict] = field(default_factory=list)   # seed, sim_s, ended_by, plans
    start_rss_bytes: int = 0

    def summary(self) -> dict:
        """Start / after-warm-up / end RSS, growth (% of the after-warm-up RSS), and the
        latency p50 of the first and the last window."""
        if not self.windows:
            return {"windows": 0}
        first, last = self.windows[0], self.windows[-1]
        base = first.rss_bytes
        return {"windows": len(self.windows), "routes": len(self.routes),
                "sim_s": last.sim_s, "wall_s": last.wall_s,
                "plans": sum(w.plans for w in self.windows),
                "start_rss_mb": self.start_rss_bytes / 2**20, "warm_rss_mb": base / 2**20,
                "end_rss_mb": last.rss_bytes / 2**20,
                "peak_rss_mb": max(w.rss_bytes for w in self.windows) / 2**20,
                "rss_growth_pct": 100.0 * (last.rss_bytes - base) / base,
                "first_p50_ms": first.p50_ms, "last_p50_ms": last.p50_ms,
                "p50_drift_pct": (100.0 * (last.p50_ms - first.p50_ms) / first.p50_ms
                                  if first.p50_ms and last.p50_ms is not None else None),
                "ended_by": _count(r["ended_by"] for r in self.routes)}


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


class _Sampler:
    """Collects per-plan latency and closes a window every `every_s` simulated seconds."""

    def __init__(self, every_s: float, rss: Callable[[], int], result: SoakResult) -> None:
        self.every_s, self.rss, self.result = every_s, rss, result
        self.next_s = every_s
        self.latencies_ms: list[float] = []
        self.start = time.perf_counter()

    def plan(self, latency_s: dict[str, float]) -> None:
        self.latencies_ms.append(1e3 * (latency_s.get("prepare", 0.0) + latency_s["infer"]))

    def tick(self, sim_s: float, route: int, force: bool = False) -> None:
        if sim_s + 1e-9 < self.next_s and not (force and self.latencies_ms):
            return
        lat = np.asarray(self.latencies_ms)
        pct = (lambda p: float(np.percentile(lat, p))) if lat.size else (lambda p: None)
        self.result.windows.append(SoakWindow(sim_s, time.perf_counter() - self.start,
                                              self.rss(), int(lat.size), pct(50), pct(90), route))
        self.latencies_ms = []
        while self.next_s <= sim_s + 1e-9:
            self.next_s += self.every_s


def run_soak(policy: DrivingPolicy, span_s: float, sample_every_s: float,
             scenario: str = "highway", first_seed: int = 1000, route_s: float = 60.0,
             planner: dict | None = None, rss: Callable[[], int] = rss_bytes,
             on_window: Callable[[SoakWindow], None] | None = None) -> SoakResult:
    """Drive routes with `policy` (seeds first_seed, first_seed + 1, ...) until `span_s`
    simulated seconds have passed; a window every `sample_every_s` simulated seconds."""
    if span_s <= 0 or sample_every_s <= 0 or route_s <= 0:
        raise ValueError(f"span_s, sample_every_s and route_s must be > 0, got {span_s}, "
                         f"{sample_every_s}, {route_s}")
    result = SoakResult(start_rss_bytes=rss())
    sampler = _Sampler(sample_every_s, rss, result)
    done_s, seed = 0.0, first_seed
    while done_s < span_s - 1e-9:
        left = min(route_s, span_s - done_s)
        sim_s, row = _route(policy, scenario, seed, left, planner, sampler, done_s,
                            len(result.routes) + 1, on_window)
        result.routes.append(row)
        done_s += sim_s
        seed += 1
    closed = len(result.windows)
    sampler.tick(done_s, len(result.routes), force=True)   # the last, partial window
    if on_window is not None and len(result.windows) > closed:
        on_window(result.windows[-1])
    return result


def _route(policy, scenario, seed, duration_s, planner, sampler, offset_s, number, on_window):
    cfg = ClosedLoopConfig(scenarios=[scenario], seeds=[seed], duration_s=max(duration_s, 1.0))
    bridge_cfg, planner_cfg, controller_cfg = profile_configs(cfg, scenario, seed, planner)

    def timed(result) -> None:
        if result.plan is not None:
            sampler.plan(result.latency_s)

    loop = LockstepLoop(bridge_cfg, planner_cfg, controller_cfg, policy, on_cycle=timed)
    try:
        sim = loop.bridge.sim
        tracker = new_route(sim, cfg, scenario, seed, "soak")
        command = instruction_command(cfg)
        track_step(tracker, sim, None, command)
        while sim.time_s < duration_s - 1e-9 and not tracker.ended:
            track_step(tracker, sim, loop.step(), command)
            windows = len(sampler.result.windows)
            sampler.tick(offset_s + sim.time_s, number)
            if on_window is not None and len(sampler.result.windows) > windows:
                on_window(sampler.result.windows[-1])
        ended_by = tracker.log.ended_by if tracker.ended else "time"
        return sim.time_s, {"seed": seed, "sim_s": sim.time_s, "ended_by": ended_by,
                            "plans": loop.plans, "planner_errors": loop.planner_errors}
    finally:
        loop.close()
