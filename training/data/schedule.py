"""The command schedule of a generated episode: random feasible commands, one after another.

A command runs until the expert reports it completed (then is kept `hold_s` longer, so that
completed frames exist) or until it times out. Weights favour lane keeping and lane changes.
"""

from __future__ import annotations

import numpy as np

from vla_driving.sim import commands as C

WEIGHTS = {C.KEEP_LANE: 2.0, C.CHANGE_LANE_LEFT: 2.0, C.CHANGE_LANE_RIGHT: 2.0, C.SPEED_UP: 1.0,
           C.SLOW_DOWN: 1.0, C.STOP: 0.5, C.TURN_LEFT: 2.0, C.TURN_RIGHT: 2.0, C.GO_STRAIGHT: 2.0}


class CommandSchedule:
    def __init__(self, rng: np.random.Generator, commands: tuple[str, ...], hold_s: float,
                 timeout_s: float, stop_hold_s: float | None = None):
        self.rng, self.commands = rng, commands
        self.hold_s, self.timeout_s = hold_s, timeout_s
        self.stop_hold_s = hold_s if stop_hold_s is None else stop_hold_s
        self.current: str | None = None
        self.started_s = 0.0
        self.done_since: float | None = None

    def update(self, sim, now_s: float) -> tuple[str, bool]:
        """(command to drive now, whether it is completed at this step)."""
        if self.current is None:
            self._pick(sim, now_s)
        done = sim.instruction_completed(self.current)
        if done and self.done_since is None:
            self.done_since = now_s
        hold = self.stop_hold_s if self.current == C.STOP else self.hold_s
        held = self.done_since is not None and now_s - self.done_since >= hold
        if held or now_s - self.started_s >= self.timeout_s:
            self._pick(sim, now_s)
            done = sim.instruction_completed(self.current)
            self.done_since = now_s if done else None
        return self.current, bool(done)

    def _pick(self, sim, now_s: float) -> None:
        options = [c for c in self.commands if c != self.current and sim.feasible(c)]
        if not options:
            options = [C.KEEP_LANE]
        w = np.array([WEIGHTS.get(c, 1.0) for c in options])
        self.current = options[int(self.rng.choice(len(options), p=w / w.sum()))]
        self.started_s, self.done_since = now_s, None
