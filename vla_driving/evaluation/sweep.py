"""Closed-loop route sweeps as independent tasks: in this process, or on Ray (local by default,
a cluster unchanged with `address`).

Each task is one route (scenario, seed, policy) driven by the ROS-free lockstep loop (or the
expert), so a route's outcome depends on its task alone, never on the number of workers: results
come back in task order. A worker that dies is retried once by Ray; a task that raises or runs
past `timeout_s` is retried once too, and then reported with its error; no route is ever dropped
from the result. A local Ray instance stays on the loopback interface.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass, field

from tqdm import tqdm

from vla_driving.evaluation.closed_loop import EXPERT, ClosedLoopConfig, run_expert_route
from vla_driving.evaluation.closed_loop_scoring import score_route

LOG = logging.getLogger(__name__)
ATTEMPTS = 2                    # a failed or hung route is tried once more
LOCAL = "local"
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RouteTask:
    """One route to drive: `planner` overrides the profile's planner (None: the expert)."""

    scenario: str
    seed: int
    policy: str
    planner: tuple[tuple[str, object], ...] | None = None
    corruption: tuple[str, int] | None = None     # (name, severity) of the cameras; None: clean

    @classmethod
    def make(cls, scenario: str, seed: int, policy: str, planner: dict | None,
             corruption: tuple[str, int] | None = None) -> "RouteTask":
        return cls(scenario, int(seed), policy,
                   None if planner is None else tuple(sorted(planner.items())),
                   None if corruption is None else (corruption[0], int(corruption[1])))

    @property
    def condition(self) -> str:
        return "clean" if self.corruption is None else "{}@{}".format(*self.corruption)


@dataclass
class RouteOutcome:
    task: RouteTask
    row: dict | None = None     # score_route(...) + wall_s / sim_s; None when it failed
    error: str | None = None
    attempts: int = 0
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.row is not None


@dataclass
class SweepResult:
    outcomes: list[RouteOutcome] = field(default_factory=list)
    wall_s: float = 0.0
    workers: int = 1

    def rows(self, policy: str, condition: str = "clean") -> list[dict]:
        return [o.row for o in self.outcomes if o.ok and o.task.policy == policy
                and getattr(o.task, "condition", "clean") == condition]

    def failed(self) -> list[RouteOutcome]:
        return [o for o in self.outcomes if not o.ok]


def route_tasks(cfg: ClosedLoopConfig, planners: dict[str, dict], expert: bool = True,
                corruptions: list[tuple[str, int]] = ()) -> list[RouteTask]:
    """Every (scenario, seed) for every planner, then the expert (clean only), then every
    planner again under each camera corruption, in a fixed order."""
    tasks = []
    for corruption in [None] + list(corruptions):
        for scenario in cfg.scenarios:
            for seed in cfg.seeds:
                tasks += [RouteTask.make(scenario, seed, name, p, corruption)
                          for name, p in planners.items()]
                if expert and corruption is None:
                    tasks.append(RouteTask.make(scenario, seed, EXPERT, None))
    return tasks


_POLICIES: dict[str, object] = {}   # per worker process: one loaded policy per planner config


def task_policy(cfg: ClosedLoopConfig, task):
    """The task's policy (`task.planner` overrides the profile's planner), loaded once per
    process and reused by its later tasks."""
    from vla_driving.evaluation.lockstep import profile_configs
    from vla_driving.policy.factory import make_policy

    key = json.dumps([cfg.profile, task.planner], default=str)
    if key not in _POLICIES:
        _, planner_cfg, _ = profile_configs(cfg, task.scenario, task.seed, dict(task.planner))
        _POLICIES[key] = make_policy(planner_cfg)
    return _POLICIES[key]


def close_policies() -> None:
    """Close the policies this process loaded (their text threads end before the process)."""
    while _POLICIES:
        _POLICIES.popitem()[1].close()


def run_task(cfg_dict: dict, task: RouteTask) -> dict:
    """Drive and score one route (in whichever process runs it)."""
    from vla_driving.evaluation.lockstep import run_lockstep_route

    cfg = ClosedLoopConfig.from_dict(cfg_dict)
    start = time.perf_counter()
    if task.planner is None:
        row = score_route(run_expert_route(cfg, task.scenario, task.seed), cfg.leaderboard)
        row["sim_s"] = row.get("duration_s", 0.0)
    else:
        route = run_lockstep_route(cfg, task.scenario, task.seed, task.policy,
                                   task_policy(cfg, task), dict(task.planner), task.corruption)
        row = score_route(route.log, cfg.leaderboard)
        row.update(sim_s=route.sim_s, plans=route.plans, planner_errors=route.planner_errors)
    row["wall_s"] = time.perf_counter() - start
    row["worker"] = f"pid {os.getpid()}"
    return row


def run_sweep(cfg: ClosedLoopConfig, tasks: list, workers: int = 1,
              address: str | None = None, timeout_s: float | None = None,
              progress: bool = True, fn=run_task, desc: str = "routes",
              unit: str = "route") -> SweepResult:
    """Every task's outcome, in task order. `workers` 1 and no `address`: in this process;
    otherwise on Ray (`address` None or "local": a local instance with `workers` CPUs).
    `fn(cfg_dict, task) -> row` runs one task (DAgger rollouts bring their own)."""
    start = time.perf_counter()
    bar = tqdm(total=len(tasks), desc=desc, unit=unit, disable=not progress)
    if workers <= 1 and address is None:
        try:
            outcomes = [_run_here(cfg, task, bar, fn) for task in tasks]
        finally:
            close_policies()
        workers = 1
    else:
        outcomes = _run_on_ray(cfg, tasks, workers, address, timeout_s, bar, fn)
    bar.close()
    return SweepResult(outcomes, time.perf_counter() - start, workers)


def _run_here(cfg: ClosedLoopConfig, task, bar, fn=run_task) -> RouteOutcome:
    outcome = RouteOutcome(task)
    for outcome.attempts in range(1, ATTEMPTS + 1):
        try:
            outcome.row, outcome.error = fn(cfg.to_dict(), task), None
            break
        except Exception as exc:  # noqa: BLE001 - reported with the route, never dropped
            outcome.error = f"{type(exc).__name__}: {exc}"
            LOG.warning("%s seed %d %s failed (attempt %d): %s", task.scenario, task.seed,
                        getattr(task, "policy", ""), outcome.attempts, outcome.error)
    bar.update()
    return outcome


def init_ray(address: str | None, workers: int):
    """Connect to the cluster at `address`, or start a local instance on loopback."""
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("Ray is not installed: pip install 'vla_driving[scale]'") from exc
    env = {"SDL_VIDEODRIVER": "offscreen", "OMP_NUM_THREADS": "1"}
    if address in (None, LOCAL):
        # Ray turns 127.0.0.1 into the machine's reachable address so that other nodes could
        # join; a local sweep has none, so its services stay on loopback.
        import ray._private.services as services
        services.resolve_ip_for_localhost = lambda host: host
        # Ray runs its workers at nice 15; beside any other job on this machine they then
        # starve (a generator episode took 44 s instead of 2.6 s) although they are the job.
        os.environ.setdefault("RAY_worker_niceness", "0")
        ray.init(address=LOCAL, num_cpus=workers, include_dashboard=False,
                 _node_ip_address="127.0.0.1", log_to_driver=False, logging_level=logging.ERROR,
                 runtime_env={"env_vars": env})
        return ray
    _probe(address)
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR,
                 runtime_env={"env_vars": env})
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RuntimeError(f"cannot reach the Ray cluster at {address!r}: {exc}") from exc
    return ray


def _probe(address: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Fail in seconds, naming the address, when nothing listens there (Ray itself retries
    for minutes)."""
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        return                       # "auto" and other forms: Ray resolves them itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise RuntimeError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None


def _run_on_ray(cfg: ClosedLoopConfig, tasks: list, workers: int, address: str | None,
                timeout_s: float | None, bar, fn=run_task) -> list[RouteOutcome]:
    ray = init_ray(address, workers)
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(fn)   # dead worker: once more
        cfg_dict = cfg.to_dict()
        outcomes = [RouteOutcome(t) for t in tasks]
        pending = list(range(len(tasks)))[::-1]
        running: dict = {}                # ref -> (task index, start time)
        limit = max(1, workers if address in (None, LOCAL) else len(tasks))
        while pending or running:
            while pending and len(running) < limit:
                i = pending.pop()
                outcomes[i].attempts += 1
                running[remote.remote(cfg_dict, tasks[i])] = (i, time.monotonic())
            done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for ref in done:
                i, _ = running.pop(ref)
                try:
                    outcomes[i].row, outcomes[i].error = ray.get(ref), None
                    outcomes[i].worker = outcomes[i].row.get("worker", "")
                    bar.update()
                except Exception as exc:  # noqa: BLE001 - the task's own error
                    _failed(outcomes[i], f"{type(exc).__name__}: {exc}", pending, i, bar)
            for ref, (i, t0) in list(running.items()):
                if timeout_s is not None and time.monotonic() - t0 > timeout_s:
                    ray.cancel(ref, force=True)
                    running.pop(ref)
                    _failed(outcomes[i], f"timed out after {timeout_s:.0f} s", pending, i, bar)
        return outcomes
    finally:
        ray.shutdown()


def _failed(outcome: RouteOutcome, error: str, pending: list, index: int, bar) -> None:
    outcome.error = error
    LOG.warning("%s seed %d %s: %s (attempt %d)", outcome.task.scenario, outcome.task.seed,
                outcome.task.policy, error, outcome.attempts)
    if outcome.attempts < ATTEMPTS:
        pending.append(index)
    else:
        bar.update()


def outcome_rows(result: SweepResult) -> list[dict]:
    """One line per route with its outcome (failed routes included), for the report."""
    return [{**asdict(o.task), "planner": dict(o.task.planner or ()), "ok": o.ok,
             "error": o.error, "attempts": o.attempts,
             "driving_score": o.row["driving_score"] if o.ok else None} for o in result.outcomes]
