"""Text generation (description + justification) on its own slower schedule, in a worker thread.

The action path runs every planning cycle; decoding text takes many LLM steps, so it must never
delay a plan. `TextScheduled.infer` only hands the latest observation to the worker (replacing
any pending one: no backlog) when text is due or requested, and `take_text()` returns results,
each stamped with the image time it describes. A text the model's strict parser rejects (or that
never ended) is counted in `stats` and logged at most once per period, never returned.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from vla_driving.constants import NS_PER_S
from vla_driving.types import Observation, Plan

from vla_driving.policy.base import DrivingPolicy, MalformedOutputError, SceneText
from vla_driving.policy.text_stats import ACCEPTED, FAILED, REJECTED, TextStats
from vla_driving.policy.wrappers import PolicyWrapper

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 30.0


class TextScheduled(PolicyWrapper):
    """Runs `inner.describe` every `period_s` of observation time (0: only on request)."""

    def __init__(self, inner: DrivingPolicy, period_s: float) -> None:
        super().__init__(inner)
        self._period_ns = int(period_s * NS_PER_S)
        self._cond = threading.Condition()
        self._pending: Observation | None = None
        self._results: list[SceneText] = []
        self._last_submitted_ns: int | None = None
        self._stop = False
        self.last_error: str | None = None
        self.busy = False
        self.stats = TextStats()
        self._unlogged = 0                      # rejections since the last warning
        self._last_log_ns: int | None = None
        self._thread = threading.Thread(target=self._work, name="text-scheduler", daemon=True)
        self._thread.start()

    def _due(self, observation: Observation) -> bool:
        if observation.want_text:
            return True
        if self._period_ns <= 0:
            return False
        last = self._last_submitted_ns
        return last is None or observation.stamp_ns - last >= self._period_ns or observation.stamp_ns < last

    def infer(self, observation: Observation) -> Plan:
        if self._due(observation):
            with self._cond:
                self._pending = observation  # replaces an unstarted one: latest wins
                self._last_submitted_ns = observation.stamp_ns
                self._cond.notify()
        if observation.want_text:
            observation = dataclasses.replace(observation, want_text=False)
        return self.inner.infer(observation)

    def take_text(self) -> list[SceneText]:
        """Results finished since the last call, oldest first."""
        with self._cond:
            out, self._results = self._results, []
        return out

    def _work(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                obs, self._pending = self._pending, None
                self.busy = True
            self._describe(obs)
            with self._cond:
                self.busy = False

    def _describe(self, obs: Observation) -> None:
        start = time.perf_counter()
        try:
            text = self.inner.describe(obs)
        except Exception as exc:  # a text failure must never take the planner down
            outcome = REJECTED if isinstance(exc, MalformedOutputError) else FAILED
            self._refused(obs.stamp_ns, outcome, f"{type(exc).__name__}: {exc}",
                          time.perf_counter() - start)
            return
        if text is None:
            return
        text = dataclasses.replace(text, latency_s=time.perf_counter() - start)
        self.stats.record(ACCEPTED, text.latency_s, text.stamp_ns)
        with self._cond:
            self._results.append(text)

    def text_stats(self) -> TextStats:
        return self.stats

    def _refused(self, stamp_ns: int, outcome: str, reason: str, latency_s: float) -> None:
        """Count a rejected or failed text; warn at most once per period of observation time."""
        self.last_error = reason
        self.stats.record(outcome, latency_s, stamp_ns, reason)
        self._unlogged += 1
        last = self._last_log_ns
        if last is None or stamp_ns < last or stamp_ns - last >= self._period_ns:
            log.warning("%d scene text(s) not published since the last report; latest %s at "
                        "%d: %s", self._unlogged, outcome, stamp_ns, reason)
            self._unlogged, self._last_log_ns = 0, stamp_ns

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        # a decode in progress finishes first: a thread left inside torch at interpreter exit
        # aborts the process
        self._thread.join(timeout=CLOSE_TIMEOUT_S)
        if self._thread.is_alive():
            log.warning("text generation still running after %.0f s at close", CLOSE_TIMEOUT_S)
        super().close()
