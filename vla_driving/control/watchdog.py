"""Safety watchdog: decides whether the controller may track the plan or must stop comfortably.

Faults: no plan yet, the last plan arrived too long ago (ROS time, so it is also correct under sim
time and bag replay), odometry is stale, or the planner reported an error. The watchdog clears
when a plan arrives after the fault, so driving resumes on fresh plans only.
"""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.constants import NS_PER_S

from vla_driving.control.config import WatchdogConfig

OK = "ok"
NO_PLAN = "no plan received yet"
STALE_PLAN = "plan timeout"
STALE_ODOM = "odometry stale"
NO_ODOM = "no odometry"
PLANNER_ERROR = "planner error"


@dataclass(frozen=True)
class WatchdogState:
    ok: bool
    reason: str
    plan_age_s: float | None
    odom_age_s: float | None


class Watchdog:
    def __init__(self, cfg: WatchdogConfig) -> None:
        self.cfg = cfg
        self._plan_received_ns: int | None = None
        self._odom_ns: int | None = None
        self._odom_received_ns: int | None = None
        self._error: str | None = None
        self._error_ns: int | None = None

    def plan_received(self, now_ns: int) -> None:
        self._plan_received_ns = now_ns
        if self._error is not None and self._error_ns is not None and now_ns >= self._error_ns:
            self._error = None  # a fresh plan after the error: resume

    def odometry_received(self, stamp_ns: int, now_ns: int | None = None) -> None:
        """Odometry of time `stamp_ns` arrived at `now_ns` (its age counts from the older)."""
        self._odom_ns = stamp_ns
        self._odom_received_ns = now_ns if now_ns else None   # 0: no clock yet (sim time)

    def planner_error(self, message: str, now_ns: int) -> None:
        if self.cfg.stop_on_planner_error:
            self._error, self._error_ns = message or "unspecified", now_ns

    def check(self, now_ns: int) -> WatchdogState:
        plan_age = None if self._plan_received_ns is None else (now_ns - self._plan_received_ns) / NS_PER_S
        odom_age = None
        if self._odom_ns is not None:
            oldest = min(self._odom_ns, now_ns if self._odom_received_ns is None
                         else self._odom_received_ns)
            odom_age = (now_ns - oldest) / NS_PER_S
        if self._error is not None:
            return WatchdogState(False, f"{PLANNER_ERROR}: {self._error}", plan_age, odom_age)
        if odom_age is None:
            return WatchdogState(False, NO_ODOM, plan_age, odom_age)
        if odom_age > self.cfg.odom_timeout_s:
            return WatchdogState(False, f"{STALE_ODOM} ({odom_age:.3f} s)", plan_age, odom_age)
        if plan_age is None:
            return WatchdogState(False, NO_PLAN, plan_age, odom_age)
        if plan_age > self.cfg.plan_timeout_s:
            return WatchdogState(False, f"{STALE_PLAN} ({plan_age:.3f} s)", plan_age, odom_age)
        return WatchdogState(True, OK, plan_age, odom_age)
