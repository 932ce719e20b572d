"""The text scheduler's counters: a rejected text is counted and logged at most once per period,
never returned; accepted texts carry their image stamp and meta-action; `TextStats` figures."""

import logging
import time

import numpy as np
import pytest

from vla_driving.constants import NS_PER_S
from vla_driving.policy.base import MalformedOutputError
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.policy.text_scheduler import TextScheduled
from vla_driving.policy.text_stats import ACCEPTED, FAILED, REJECTED, TextStats
from vla_driving.types import EgoState, Observation


def obs(t_s: float, want_text: bool = False) -> Observation:
    stamp = int(round(t_s * NS_PER_S))
    return Observation(stamp_ns=stamp, images=np.zeros((1, 2, 8, 8, 3), np.uint8),
                       cameras=("bev_near", "bev_far"), ego=EgoState(stamp_ns=stamp, speed=9.0),
                       want_text=want_text)


class Rejecting(ConstantVelocityPolicy):
    """The baseline whose text fails the strict parser at the stamps in `bad` (a test double for
    the model's `MalformedOutputError`), and raises something else at `broken`."""

    def __init__(self, bad=(), broken=()):
        super().__init__()
        self.bad, self.broken = set(bad), set(broken)

    def describe(self, observation):
        if observation.stamp_ns in self.bad:
            raise MalformedOutputError("text plan rejected: expected 4 lines, got 1")
        if observation.stamp_ns in self.broken:
            raise RuntimeError("decoder crashed")
        return super().describe(observation)


def submit(policy: TextScheduled, observation: Observation, timeout_s: float = 5.0) -> None:
    """One text request, waited for (the scheduler keeps only the latest pending request)."""
    before = policy.stats.requested + (1 if observation.want_text else 0)
    policy.infer(observation)
    deadline = time.monotonic() + timeout_s
    while policy.stats.requested < before and time.monotonic() < deadline:
        time.sleep(0.002)
    assert policy.stats.requested >= before


def test_rejected_texts_are_counted_logged_once_per_period_and_never_returned(caplog):
    bad = {int(t * NS_PER_S) for t in (0.0, 0.2, 0.4, 0.6, 1.2)}
    policy = TextScheduled(Rejecting(bad, broken={int(1.4 * NS_PER_S)}), period_s=1.0)
    try:
        with caplog.at_level(logging.WARNING, logger="vla_driving.policy.text_scheduler"):
            for t in (0.0, 0.2, 0.4, 0.6, 1.2, 1.4, 1.6):
                submit(policy, obs(t, want_text=True))
        texts = policy.take_text()
    finally:
        policy.close()
    assert [t.stamp_ns for t in texts] == [int(1.6 * NS_PER_S)]     # only the good one
    assert texts[0].meta_action is not None and texts[0].latency_s > 0
    s = policy.stats.summary()
    assert (s["requested"], s["accepted"], s["rejected"], s["failed"]) == (7, 1, 5, 1)
    assert s["parse_rate"] == pytest.approx(1 / 6) and s["latency_ms"]["count"] == 7
    warnings = [r.getMessage() for r in caplog.records]
    # 0.0 logs; 0.2-0.6 fall in its period; 1.2 logs the 4 since; 1.4 (failed) waits
    assert len(warnings) == 2
    assert warnings[0].startswith("1 scene text(s)") and warnings[1].startswith("4 scene text(s)")
    assert "expected 4 lines" in warnings[1]
    assert policy.last_error == "RuntimeError: decoder crashed"


def test_text_stats_rates_and_outcomes():
    stats = TextStats()
    for k in range(5):
        stats.record(ACCEPTED, 0.1 * (k + 1), stamp_ns=k * 2 * NS_PER_S)
    stats.record(REJECTED, 0.5, reason="bad")
    stats.record(FAILED, None, reason="boom")
    s = stats.summary()
    assert s["rate_hz"] == pytest.approx(0.5)                  # 4 intervals of 2 s
    assert stats.summary(span_s=20.0)["rate_hz"] == pytest.approx(0.25)
    assert s["parse_rate"] == pytest.approx(5 / 6) and s["requested"] == 7
    # latencies 0.1 ... 0.5 s and the rejected 0.5 s: median 0.35 s; the failed had none
    assert s["latency_ms"]["p50"] == pytest.approx(350.0) and s["latency_ms"]["count"] == 6
    assert stats.last_rejection == "boom"
    with pytest.raises(ValueError):
        stats.record("maybe", 0.1)
    assert TextStats().summary()["parse_rate"] is None


def test_merged_stats_add_counts_and_join_latencies():
    a, b = TextStats(), TextStats()
    a.record(ACCEPTED, 0.2, stamp_ns=0)
    a.record(REJECTED, 0.4, reason="cut")
    b.record(ACCEPTED, 0.6, stamp_ns=NS_PER_S)
    s = TextStats.merged([a, b]).summary(span_s=4.0)
    assert (s["accepted"], s["rejected"], s["latency_ms"]["count"]) == (2, 1, 3)
    assert s["rate_hz"] == pytest.approx(0.5) and s["latency_ms"]["p50"] == pytest.approx(400.0)
