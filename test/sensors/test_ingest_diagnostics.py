"""Diagnostics levels and figures computed from two Ingest snapshots (no ROS)."""

import numpy as np

from vla_driving.sensors.config import IngestConfig
from vla_driving.sensors.decode import RawImage
from vla_driving.sensors.diagnostics import ERROR, OK, WARN, ingest_statuses, percentiles_ms
from vla_driving.sensors.ingest import Ingest

S = 1_000_000_000


def _img() -> RawImage:
    return RawImage(2, 2, "rgb8", 6, bytes(12))


def test_percentiles_in_ms_and_nan_when_empty():
    out = percentiles_ms(np.arange(1, 101) * 1_000_000)
    assert out["p50"] == np.percentile(np.arange(1, 101), 50) and out["max"] == 100.0
    assert np.isnan(percentiles_ms([])["p99"])


def test_levels_follow_what_happened_in_the_period():
    ingest = Ingest(IngestConfig(cameras=["front", "left"]))
    before = ingest.stats()
    for k in range(1, 11):
        ingest.on_image("front", _img(), k * S // 10, now_ns=k * S // 10)
        ingest.on_image("left", _img(), k * S // 10, now_ns=k * S // 10)
    ingest.on_image("left", RawImage(2, 2, "yuv", 4, bytes(8)), 2 * S, now_ns=2 * S)
    statuses = {s.name: s for s in ingest_statuses("ingest", ingest.stats(), before, 1.0,
                                                   ["front", "left"], "front")}
    front, left = statuses["ingest: camera front"], statuses["ingest: camera left"]
    assert front.level == OK and front.message == "10.0 Hz"
    assert left.level == WARN and "bad_encoding=1" in left.message
    assert left.values["rejected.bad_encoding"] == "1"
    assert statuses["ingest: odometry"].level == ERROR  # no odometry at all
    assert statuses["ingest: instruction"].level == OK  # instructions are optional
    sync = statuses["ingest: sync"]
    assert sync.level == OK and sync.values["sets"] == "10" and "latency_ms.p50" in sync.values
    quiet = ingest_statuses("ingest", ingest.stats(), ingest.stats(), 1.0, ["front", "left"],
                            "front")
    assert all(s.level == ERROR for s in quiet if "camera" in s.name or "sync" in s.name)
