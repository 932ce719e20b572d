"""When a controller in lockstep with a simulator bridge may command the step it announced.

Over DDS the step announcement, /clock, the odometry and the plan come on different topics, in
no guaranteed order; a timer tick could therefore command step t with the plan of the frame
before, or not, from one run to the next. The bridge names the frame whose plan the command must
use; the controller commands step t once that plan and the odometry of t are in, so the same
inputs give the same commands. A bounded wall-clock wait keeps a lost message from freezing it.
"""

from __future__ import annotations

from dataclasses import dataclass

NEW, REPEAT, OLD = "new", "repeat", "old"


@dataclass
class LockstepGate:
    wait_s: float
    pending: tuple[int, int, float] | None = None   # (now_ns, plan_ns, wall when announced)
    last_ns: int = -1                                # the newest time commanded
    late: int = 0                                    # steps commanded after the wait ran out
    active: bool = False                             # a bridge announces steps (any message)

    def announce(self, now_ns: int, plan_ns: int, wall_s: float) -> str:
        """A step announced: NEW (pending now), REPEAT (already commanded: the bridge resent it,
        so send that command again) or OLD (an earlier step, or the bridge's hello at start,
        now_ns < 0: ignore)."""
        self.active = True
        if now_ns < 0:
            return OLD
        if now_ns == self.last_ns:
            return REPEAT
        if now_ns < self.last_ns:
            return OLD
        if self.pending is None or self.pending[0] != now_ns:
            self.pending = (now_ns, plan_ns, wall_s)
        return NEW

    def due(self, plan_stamp_ns: int | None, odom_stamp_ns: int | None, wall_s: float
            ) -> int | None:
        """The pending step to command now (its time), or None while its inputs are missing."""
        if self.pending is None:
            return None
        now_ns, plan_ns, since = self.pending
        has_plan = plan_ns < 0 or (plan_stamp_ns is not None and plan_stamp_ns >= plan_ns)
        has_odom = odom_stamp_ns is not None and odom_stamp_ns >= now_ns
        if not (has_plan and has_odom):
            if wall_s - since <= self.wait_s:
                return None
            self.late += 1
        self.pending = None
        self.commanded(now_ns)
        return now_ns

    def commanded(self, now_ns: int) -> None:
        """A command for `now_ns` went out (a step, or a timer tick before the bridge's first
        announcement reached us): announcements up to it are not commanded again, so the
        commands' stamps never go back in time when lockstep takes over from the timer."""
        self.last_ns = max(self.last_ns, now_ns)
        if self.pending is not None and self.pending[0] <= self.last_ns:
            self.pending = None
