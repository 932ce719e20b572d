"""Refused input is counted, logged once per period, and costs no memory (issue 19, item 10)."""

import tracemalloc

from vla_driving.sensors.config import IngestConfig
from vla_driving.sensors.ingest import REASON_TOO_LONG, Ingest, Rejection, RejectionLog

S = 1_000_000_000


def test_a_1mb_instruction_is_refused_counted_and_allocates_nothing_big():
    ingest = Ingest(IngestConfig())
    ingest.on_instruction("keep the lane", 1)
    big = "turn left " * 100_000
    tracemalloc.start()
    try:
        for i in range(5):
            rejection = ingest.on_instruction(big, 2 + i)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rejection.reason == REASON_TOO_LONG and "1000000 characters" in rejection.detail
    assert peak < 64 * 1024, f"refusing allocated {peak} bytes"
    assert ingest.stats()["sources"]["instruction"]["rejected"] == {REASON_TOO_LONG: 5}
    assert ingest.instruction == "keep the lane"


def test_rejections_are_logged_once_per_source_reason_and_period():
    log = RejectionLog(period_s=5.0)
    a, b = Rejection("instruction", "too_long", ""), Rejection("front", "stale", "")
    assert log.due(a, 0) and log.due(b, 0)
    assert not log.due(a, 1 * S) and not log.due(a, 4 * S)
    assert log.due(a, 5 * S)
    assert not log.due(None, 10 * S)
    assert log.due(a, 1 * S)   # the clock went back (bag loop): log again
