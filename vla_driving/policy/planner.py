"""The planning cycle, ROS-free: latest synchronised frames + ego + instruction -> Plan or error.

The planner node calls `cycle(now_ns)` from its worker at the planning rate; this module decides
whether inputs are fresh enough, builds the `Observation`, runs the policy and times each stage.
A policy error never escapes: it becomes a `CycleResult` with `error` set (fails closed).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from vla_driving.constants import NS_PER_S
from vla_driving.sensors.ingest import Ingest, first_receipt_ns, stack_views
from vla_driving.types import EgoState, Observation, Plan

from vla_driving.policy.base import DrivingPolicy, PolicyError, SceneText
from vla_driving.policy.heap import release_every
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.policy.planner_inputs import InputSource, PlannerInputs, input_sources
from vla_driving.policy.text_stats import TextStats

STATUS_OK = "ok"
STATUS_DEGRADED = "degraded"
STATUS_WAITING = "waiting"
STATUS_ERROR = "error"
LATENCY_WINDOW = 200
HEAP_TRIM_EVERY = 300          # planning cycles (30 s at 10 Hz) between giving freed memory back


@dataclass
class CycleResult:
    status: str
    stamp_ns: int | None = None
    plan: Plan | None = None
    error: str | None = None
    detail: str = ""
    latency_s: dict[str, float] = field(default_factory=dict)
    ego: EgoState | None = None      # the ego state the plan was made from (odometry frame)
    received_ns: int = 0             # monotonic wall clock: the set's first image received


@dataclass
class Begun:
    """A cycle with its observation, waiting for the policy (`PlannerCore.begin`)."""

    obs: Observation
    start: float          # perf_counter at the cycle's start
    prepared: float       # perf_counter once the observation was built
    received_ns: int


def input_age_s(now_ns: int, stamp_ns: int, received_ns: int | None) -> float:
    """How old an input is: the larger of its age by stamp and since it was received."""
    ages = [now_ns - stamp_ns] + ([] if received_ns is None else [now_ns - received_ns])
    return max(ages) / NS_PER_S


class PlannerCore:
    def __init__(self, cfg: PlannerConfig, policy: DrivingPolicy, ingest: Ingest) -> None:
        self.cfg = cfg
        self.policy = policy
        self.ingest = ingest
        self.cycles = 0
        self.errors = 0
        self.latencies: dict[str, deque[float]] = {}
        self._want_text = False
        self._last_instruction = ""
        self.inputs = PlannerInputs(ingest, cfg.sync_with_frames, self.record,
                                    cfg.sync_wait_instruction)

    def sources(self) -> list[InputSource]:
        """The topics to subscribe to, with the kind of message and the slot each fills."""
        return input_sources(self.cfg.ingest)

    def request_text(self) -> None:
        self._want_text = True

    def observation(self, now_ns: int) -> tuple[Observation | None, str]:
        """The observation to plan on, or None with the reason why not."""
        obs, why, _ = self._observe(now_ns)
        return obs, why

    def _observe(self, now_ns: int) -> tuple[Observation | None, str, int]:
        """`observation`, plus when the newest set's first image was received (wall clock)."""
        history = self.ingest.history(self.cfg.ingest.history)
        if not history:
            return None, "no synchronised camera set yet", 0
        latest = history[-1]
        # age on this node's clock since receipt, and since the stamp: a frame stamped in the
        # future cannot keep itself fresh
        age_s = input_age_s(now_ns, latest.stamp_ns, self.ingest.set_received_ns)
        if age_s > self.cfg.max_input_age_s:
            return None, f"camera input stale ({age_s:.3f} s > {self.cfg.max_input_age_s} s)", 0
        ego = self.ingest.ego
        if ego is None:
            return None, "no odometry yet", 0
        ego_age_s = input_age_s(now_ns, ego.stamp_ns, self.ingest.ego_received_ns)
        if ego_age_s > self.cfg.max_input_age_s:
            return None, f"odometry stale ({ego_age_s:.3f} s > {self.cfg.max_input_age_s} s)", 0
        instruction = self.ingest.instruction
        if instruction != self._last_instruction:
            self._last_instruction, self._want_text = instruction, True
        # stack only the sets the policy reads (2 of 16 for the default bundle), not the history
        history = [history[i] for i in self.policy.history_frames([s.stamp_ns for s in history])]
        try:
            images = stack_views(history, tuple(self.cfg.ingest.cameras))
        except ValueError as exc:  # e.g. views of different sizes: no observation, an error
            return None, f"cannot stack camera views: {exc}", 0
        obs = Observation(stamp_ns=latest.stamp_ns, images=images,
                          cameras=tuple(self.cfg.ingest.cameras), ego=ego,
                          instruction=instruction, degraded=latest.degraded,
                          want_text=self._want_text,
                          frame_stamps_ns=tuple(s.stamp_ns for s in history))
        self._want_text = False
        return obs, "", first_receipt_ns(latest)

    def cycle(self, now_ns: int) -> CycleResult:
        begun = self.begin(now_ns)
        if isinstance(begun, CycleResult):
            return begun
        try:
            plan = self.policy.infer(begun.obs)
        except Exception as exc:  # noqa: BLE001 - typed PolicyError or not, it fails closed
            return self.finish(begun, exc)
        return self.finish(begun, plan, time.perf_counter() - begun.prepared)

    def begin(self, now_ns: int) -> "Begun | CycleResult":
        """A cycle's first half: the observation to plan on, or the result without one."""
        self.cycles += 1
        release_every(HEAP_TRIM_EVERY)      # before the cycle's clock starts (about 1 ms)
        start = time.perf_counter()
        obs, why, received_ns = self._observe(now_ns)
        if obs is None:
            latest = self.ingest.history(1)
            stamp = latest[-1].stamp_ns if latest else None
            waiting = not latest or self.ingest.ego is None
            return CycleResult(STATUS_WAITING if waiting else STATUS_ERROR, stamp_ns=stamp,
                               error=None if waiting else why, detail=why)
        return Begun(obs, start, time.perf_counter(), received_ns)

    def finish(self, begun: "Begun", outcome: "Plan | Exception", infer_s: float = 0.0,
               infer_stage: str = "infer") -> CycleResult:
        """A cycle's second half: the policy's plan (it took `infer_s`, recorded as
        `infer_stage`) or its exception, as the cycle's result."""
        obs, prepare_s = begun.obs, begun.prepared - begun.start
        if isinstance(outcome, Exception):
            self.errors += 1
            kind = type(outcome).__name__ if isinstance(outcome, PolicyError) else \
                f"unexpected {type(outcome).__name__}"
            return CycleResult(STATUS_ERROR, obs.stamp_ns, error=f"{kind}: {outcome}",
                               latency_s={"prepare": prepare_s})
        latency = {"prepare": prepare_s, **outcome.latency_s, infer_stage: infer_s}
        self.record(latency)
        status = STATUS_DEGRADED if obs.degraded else STATUS_OK
        return CycleResult(status, obs.stamp_ns, plan=outcome, latency_s=latency,
                           detail="degraded camera set" if obs.degraded else "", ego=obs.ego,
                           received_ns=begun.received_ns)

    def record(self, latency: dict[str, float]) -> None:
        for key, value in latency.items():
            self.latencies.setdefault(key, deque(maxlen=LATENCY_WINDOW)).append(value)

    def take_text(self) -> list[SceneText]:
        take = getattr(self.policy, "take_text", None)
        return take() if take is not None else []

    def text_stats(self) -> TextStats | None:
        """The text scheduler's counters (None: the policy runs no text worker)."""
        stats = getattr(self.policy, "text_stats", None)
        return stats() if stats is not None else None
