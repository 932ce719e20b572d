"""Behaviour around a policy as wrappers (openpi style), never as flags on the policy itself."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from vla_driving.constants import NS_PER_S
from vla_driving.types import Observation, Plan

from vla_driving.policy.base import DrivingPolicy, PolicyError, SceneText

log = logging.getLogger(__name__)


class PolicyWrapper(DrivingPolicy):
    """Delegates everything to `inner`; subclasses override what they change."""

    def __init__(self, inner: DrivingPolicy) -> None:
        self.inner = inner
        self.bundle_id = inner.bundle_id

    def infer(self, observation: Observation) -> Plan:
        return self.inner.infer(observation)

    def describe(self, observation: Observation) -> SceneText | None:
        return self.inner.describe(observation)

    def answer(self, observation: Observation, questions) -> list[str] | None:
        return self.inner.answer(observation, questions)

    def history_frames(self, stamps_ns: list[int]) -> list[int]:
        return self.inner.history_frames(stamps_ns)

    def warm_up(self) -> float:
        """The inner policy's, past this wrapper: a warm-up is never recorded, counted or held."""
        return self.inner.warm_up()

    def close(self) -> None:
        self.inner.close()


class RateLimited(PolicyWrapper):
    """Runs the inner policy at most every `min_period_s` of observation time; else the last plan."""

    def __init__(self, inner: DrivingPolicy, min_period_s: float) -> None:
        super().__init__(inner)
        self._period_ns = int(min_period_s * NS_PER_S)
        self._last: Plan | None = None

    def infer(self, observation: Observation) -> Plan:
        last = self._last
        if last is not None and 0 <= observation.stamp_ns - last.stamp_ns < self._period_ns:
            return last
        self._last = self.inner.infer(observation)
        return self._last


class HoldLastPlan(PolicyWrapper):
    """On a policy error, return the last good plan while it is younger than `max_hold_s`.

    The held plan keeps its own (old) stamp, so consumers still see its true age.
    """

    def __init__(self, inner: DrivingPolicy, max_hold_s: float) -> None:
        super().__init__(inner)
        self._max_hold_ns = int(max_hold_s * NS_PER_S)
        self._last: Plan | None = None

    def infer(self, observation: Observation) -> Plan:
        try:
            self._last = self.inner.infer(observation)
            return self._last
        except PolicyError as exc:
            last = self._last
            if last is None or observation.stamp_ns - last.stamp_ns > self._max_hold_ns:
                raise
            log.warning("policy error, holding plan from %d: %s", last.stamp_ns, exc)
            return last


def plan_record(observation: Observation, plan: Plan | None, error: str | None) -> dict:
    """One JSON-able line: inputs that matter for replay analysis and the plan (or the error)."""
    ego = observation.ego
    rec = {"stamp_ns": observation.stamp_ns, "instruction": observation.instruction,
           "degraded": observation.degraded, "ego": {"speed": ego.speed, "yaw_rate": ego.yaw_rate}}
    if plan is not None:
        rec["plan"] = {"waypoints": plan.waypoints.tolist(),
                       "controls": plan.controls.as_array().tolist(),
                       "meta_action": [plan.meta_action.speed, plan.meta_action.steering],
                       "instruction_completed": plan.instruction_completed,
                       "bundle_id": plan.bundle_id}
    if error is not None:
        rec["error"] = error
    return rec


class Recorder(PolicyWrapper):
    """Records every call (plan or error) in memory and, with `path`, as JSON lines."""

    def __init__(self, inner: DrivingPolicy, path: str | Path | None = None) -> None:
        super().__init__(inner)
        self.records: list[dict] = []
        self._file = Path(path).open("a") if path is not None else None
        self._lock = threading.Lock()

    def infer(self, observation: Observation) -> Plan:
        try:
            plan = self.inner.infer(observation)
        except PolicyError as exc:
            self._write(plan_record(observation, None, f"{type(exc).__name__}: {exc}"))
            raise
        self._write(plan_record(observation, plan, None))
        return plan

    def _write(self, record: dict) -> None:
        with self._lock:
            self.records.append(record)
            if self._file is not None:
                self._file.write(json.dumps(record) + "\n")
                self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()
