"""The ROS-free ingest core: bad input is counted by reason and never stops other cameras."""

import math

import numpy as np
import pytest

from vla_driving.sensors.config import IngestConfig
from vla_driving.sensors.decode import CompressedImage, RawImage
from vla_driving.sensors.ingest import Ingest, stack_views
from vla_driving.sensors.odometry import OdometryFields

MS = 1_000_000
S = 1_000_000_000
CAMERAS = ["front", "left"]


def _ingest(**kwargs) -> tuple[Ingest, list]:
    sets = []
    cfg = IngestConfig(cameras=CAMERAS, history=3, max_width=64, max_height=64, **kwargs)
    return Ingest(cfg, on_set=sets.append), sets


def _img(value: int = 7, h: int = 4, w: int = 4) -> RawImage:
    return RawImage(h, w, "rgb8", w * 3, np.full((h, w, 3), value, np.uint8).tobytes())


def _odom(t_ns: int, vx: float = 5.0, **override) -> OdometryFields:
    values = dict(stamp_ns=t_ns, x=1.0, y=2.0, qx=0.0, qy=0.0, qz=math.sin(0.25),
                  qw=math.cos(0.25), vx=vx, vy=0.0, yaw_rate=0.1)
    values.update(override)
    return OdometryFields(**values)


def test_good_frames_make_a_synced_set_with_the_anchor_stamp():
    ingest, sets = _ingest()
    assert ingest.on_image("left", _img(1), 10 * S, now_ns=10 * S + MS) is None
    assert ingest.on_image("front", _img(2), 10 * S + 3 * MS, now_ns=10 * S + 4 * MS) is None
    assert len(sets) == 1 and sets[0].stamp_ns == 10 * S + 3 * MS
    assert sets[0].frames["left"].image[0, 0, 0] == 1
    stats = ingest.stats()
    assert stats["sets"] == 1 and stats["stamp_to_set_ns"] == [MS]
    assert len(stats["latency_ns"]) == 1 and stats["latency_ns"][0] >= 0
    assert stats["sources"]["front"] == {"received": 1, "accepted": 1, "rejected": {}}


def test_set_latency_is_wall_time_from_the_first_receipt_even_when_the_clock_lags():
    """Under sim time the lockstep bridge sends the frames of t before /clock(t): the ROS clock
    reads t - 50 ms, so clock - stamp was -50 ms. The set's latency counts on the wall clock
    from its first image's receipt (issue 19, item 15)."""
    wall = iter([1000 * MS, 1003 * MS, 1004 * MS])     # left received, front received, set out
    sets = []
    ingest = Ingest(IngestConfig(cameras=CAMERAS, max_width=64, max_height=64),
                    on_set=sets.append, wall_ns=lambda: next(wall))
    lagging = 10 * S - 50 * MS                            # the clock still at the previous step
    assert ingest.on_image("left", _img(), 10 * S, now_ns=lagging) is None
    assert ingest.on_image("front", _img(), 10 * S, now_ns=lagging) is None
    stats = ingest.stats()
    assert len(sets) == 1 and stats["latency_ns"] == [4 * MS]
    assert ingest.set_received_wall_ns == 1000 * MS
    assert stats["stamp_to_set_ns"] == [-50 * MS]        # kept for wall-clock benches only


@pytest.mark.parametrize("fields, reason", [
    (RawImage(4, 4, "yuv422", 8, b"\0" * 32), "bad_encoding"),
    (RawImage(4, 4, "rgb8", 11, b"\0" * 48), "bad_step"),
    (RawImage(4, 4, "rgb8", 12, b"\0" * 47), "truncated"),
    (RawImage(0, 0, "rgb8", 0, b""), "zero_size"),
    (RawImage(65, 4, "rgb8", 12, b"\0" * 780), "too_large"),
    (CompressedImage("jpeg", b"garbage"), "undecodable"),
])
def test_bad_image_is_rejected_counted_and_other_camera_keeps_working(fields, reason):
    ingest, sets = _ingest()
    rejection = ingest.on_image("left", fields, S, now_ns=S)
    assert rejection is not None and rejection.reason == reason and rejection.source == "left"
    assert reason in str(rejection)
    assert ingest.stats()["sources"]["left"]["rejected"] == {reason: 1}
    assert ingest.on_image("front", _img(), S, now_ns=S) is None
    assert ingest.poll(now_ns=S + 60 * MS)[0].missing == ("left",)
    assert ingest.on_image("left", _img(), 2 * S, now_ns=2 * S) is None


def test_backwards_and_stale_stamps_are_rejected():
    ingest, _ = _ingest(max_frame_age_s=0.5)
    assert ingest.on_image("front", _img(), 5 * S, now_ns=5 * S) is None
    assert ingest.on_image("front", _img(), 5 * S, now_ns=5 * S).reason == "stamp_not_increasing"
    assert ingest.on_image("front", _img(), 4 * S, now_ns=5 * S).reason == "stamp_not_increasing"
    assert ingest.on_image("left", _img(), 4 * S, now_ns=5 * S).reason == "stale"
    assert ingest.on_image("rear", _img(), 5 * S, now_ns=5 * S).reason == "unknown_camera"
    assert ingest.stats()["unknown_camera"] == 1
    rejected = ingest.stats()["sources"]
    assert rejected["front"]["rejected"] == {"stamp_not_increasing": 2}
    assert rejected["left"]["rejected"] == {"stale": 1}


def test_clock_not_started_skips_age_check_and_clock_jump_back_resets():
    ingest, _ = _ingest(max_frame_age_s=0.5)
    assert ingest.on_image("front", _img(), 100 * S, now_ns=0) is None
    assert ingest.on_image("front", _img(), 200 * S, now_ns=200 * S) is None
    # a bag loop: the ROS clock goes back; older stamps are accepted again after a reset
    assert ingest.on_image("front", _img(), 10 * S, now_ns=10 * S) is None
    assert ingest.stats()["clock_resets"] == 1


def test_odometry_becomes_ego_state_and_nan_is_refused():
    ingest, _ = _ingest()
    assert ingest.on_odometry(_odom(S, vx=5.0), now_ns=S) is None
    assert ingest.on_odometry(_odom(S + S // 10, vx=6.0), now_ns=S) is None
    ego = ingest.ego
    assert ego.speed == 6.0 and ego.yaw == pytest.approx(0.5) and ego.yaw_rate == 0.1
    assert ego.acceleration == pytest.approx(5.0)  # half of (6-5)/0.1: smoothed from 0
    for bad in (dict(vx=float("nan")), dict(x=float("inf")), dict(qw=float("nan"))):
        rejection = ingest.on_odometry(_odom(2 * S, **bad), now_ns=2 * S)
        assert rejection.reason == "non_finite" and ("nan" in rejection.detail
                                                     or "inf" in rejection.detail)
    assert ingest.on_odometry(_odom(S, vx=1.0), now_ns=2 * S).reason == "stamp_not_increasing"
    assert ingest.ego is ego
    assert ingest.stats()["sources"]["odometry"]["rejected"] == {"non_finite": 3,
                                                                 "stamp_not_increasing": 1}


def test_instruction_is_cleaned_and_bounded():
    ingest, _ = _ingest(max_instruction_chars=22)
    assert ingest.on_instruction("  turn\tleft \x00 at  the light ", now_ns=0) is None
    assert ingest.instruction == "turn left at the light"
    assert ingest.on_instruction("x" * 23, now_ns=0).reason == "too_long"
    assert ingest.instruction == "turn left at the light"
    assert ingest.stats()["sources"]["instruction"]["rejected"] == {"too_long": 1}


def test_history_pads_and_stack_views_fills_missing_views():
    ingest, _ = _ingest()
    assert ingest.history(2) == []
    ingest.on_image("front", _img(3), S, now_ns=S)
    ingest.poll(now_ns=2 * S)  # left never arrived: degraded set
    ingest.on_image("left", _img(5), 3 * S, now_ns=3 * S)
    ingest.on_image("front", _img(4), 3 * S, now_ns=3 * S)
    history = ingest.history(3)
    assert [s.stamp_ns for s in history] == [S, S, 3 * S]
    stacked = stack_views(history, CAMERAS)
    assert stacked.shape == (3, 2, 4, 4, 3)
    assert stacked[0, 1].max() == 0 and stacked[2, 1].min() == 5 and stacked[2, 0].min() == 4


def test_unexpected_decoder_failure_is_counted_not_raised(monkeypatch):
    import vla_driving.sensors.ingest as ingest_module

    def broken(*_):
        raise RuntimeError("decoder bug")

    monkeypatch.setattr(ingest_module, "decode", broken)  # stands in for an unforeseen bug
    ingest, _ = _ingest()
    rejection = ingest.on_image("front", _img(), S, now_ns=S)
    assert rejection.reason == "unexpected_error" and "decoder bug" in rejection.detail


def test_on_set_callback_may_read_the_history():
    seen = []
    ingest = Ingest(IngestConfig(cameras=["front"]),
                    on_set=lambda synced: seen.append(len(ingest.history())))
    ingest.on_image("front", _img(), S, now_ns=S)
    assert seen == [1]
