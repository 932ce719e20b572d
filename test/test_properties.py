"""Property-based tests (hypothesis, issue 19): the input and output boundaries fail closed with
their own error type on any input, and what they accept satisfies their bounds."""

import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from vla_driving.configuration import ConfigError  # noqa: E402
from vla_driving.control.config import ControllerConfig  # noqa: E402
from vla_driving.control.validator import ValidatorConfig, validate_trajectory  # noqa: E402
from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS, MetaAction  # noqa: E402
from vla_driving.model.text_format import (MAX_ABS_COORD_M, ParseError, format_plan,  # noqa: E402
                                           parse_plan)
from vla_driving.sensors.config import OdometryLimits  # noqa: E402
from vla_driving.sensors.decode import (CompressedImage, DecodeError, DecodeLimits,  # noqa: E402
                                        RawImage, decode)
from vla_driving.sensors.odometry import OdometryError, OdometryFields, ego_from_odometry  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None)
floats = st.floats(allow_nan=True, allow_infinity=True)
ENCODINGS = ["rgb8", "bgr8", "mono8", "mono16", "rgba8", "bgra8", "16UC1", "yuv422", "", "x"]


@SETTINGS
@given(h=st.integers(-2, 40), w=st.integers(-2, 40), enc=st.sampled_from(ENCODINGS),
       step=st.integers(-5, 200), data=st.binary(max_size=5000), big=st.booleans())
def test_raw_image_decoder_returns_an_image_or_a_decode_error(h, w, enc, step, data, big):
    limits = DecodeLimits(max_width=32, max_height=32)
    try:
        image = decode(RawImage(h, w, enc, step, data, big), limits)
    except DecodeError as exc:
        assert exc.reason
        return
    assert image.shape[:2] == (h, w) and 0 < h <= 32 and 0 < w <= 32


@SETTINGS
@given(fmt=st.sampled_from(["jpeg", "png", "rgb8; jpeg compressed bgr8", "", "tiff"]),
       data=st.binary(max_size=2000))
def test_compressed_decoder_returns_an_image_or_a_decode_error(fmt, data):
    try:
        image = decode(CompressedImage(fmt, data), DecodeLimits(max_width=64, max_height=64))
    except DecodeError:
        return
    assert image.ndim in (2, 3)


@SETTINGS
@given(values=st.lists(floats, min_size=9, max_size=9), stamp=st.integers(0, 2**62))
def test_odometry_is_refused_or_inside_its_bounds(values, stamp):
    limits = OdometryLimits()
    try:
        ego = ego_from_odometry(OdometryFields(stamp, *values), None, limits)
    except OdometryError as exc:
        assert exc.reason
        return
    assert all(math.isfinite(v) for v in (ego.x, ego.y, ego.yaw, ego.speed, ego.yaw_rate))
    assert abs(ego.speed) <= limits.max_speed_m_s and abs(ego.yaw_rate) <= limits.max_yaw_rate_rad_s


@SETTINGS
@given(text=st.text(max_size=400))
def test_text_parser_fails_closed_on_any_text(text):
    try:
        plan = parse_plan(text)
    except ParseError:
        return
    assert np.all(np.isfinite(plan.waypoints)) and np.abs(plan.waypoints).max() <= MAX_ABS_COORD_M


coords = st.floats(-MAX_ABS_COORD_M, MAX_ABS_COORD_M, allow_nan=False)


@SETTINGS
@given(wp=st.lists(st.tuples(coords, coords), min_size=6, max_size=6),
       speed=st.sampled_from(SPEED_LEVELS), steering=st.sampled_from(STEERING_LEVELS),
       words=st.text(alphabet="abcdefgh ,.", min_size=1, max_size=40).filter(str.strip))
def test_text_parser_reads_back_what_the_formatter_writes(wp, speed, steering, words):
    meta = MetaAction(speed=speed, steering=steering)
    plan = parse_plan(format_plan(words, meta, words, np.array(wp)))
    assert plan.meta_action == meta
    assert np.allclose(plan.waypoints, np.array(wp), atol=0.0501)   # one decimal, either way


points = st.lists(st.tuples(floats, floats), min_size=0, max_size=9)


@SETTINGS
@given(pts=points, ego=st.tuples(floats, floats))
def test_validator_never_raises_and_what_it_accepts_is_bounded(pts, ego):
    cfg = ValidatorConfig()
    arr = np.array([(0.0, 0.0), *pts], dtype=np.float64)
    result = validate_trajectory(arr, cfg, np.array(ego))
    if result.ok:
        seg = np.hypot(*np.diff(arr, axis=0).T)
        assert np.all(np.isfinite(arr)) and len(arr) >= 2
        assert np.all(seg <= cfg.max_interval_m) and np.all(seg / 0.5 <= cfg.max_speed_m_s)


leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), floats,
                 st.text(max_size=8), st.lists(st.integers(), max_size=3))
keys = st.sampled_from(["rate_hz", "ratehz", "lateral", "output", "vehicle", "watchdog",
                        "max_throttle", "speed_pid", "wheelbase_m", "kp", "x"])
trees = st.recursive(leaf, lambda children: st.dictionaries(keys, children, max_size=4),
                     max_leaves=12)


@SETTINGS
@given(data=st.dictionaries(keys, trees, max_size=5))
def test_profile_loader_gives_a_config_or_one_config_error(data):
    try:
        cfg = ControllerConfig.from_dict(data)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert 1.0 <= cfg.rate_hz <= 200.0 and 0.05 <= cfg.max_throttle <= 1.0


@SETTINGS
@given(text=st.text(max_size=200))
def test_profile_yaml_of_any_text_is_a_profile_or_one_config_error(tmp_path_factory, text):
    pytest.importorskip("rclpy")
    from vla_driving.ros.stack import check_profile
    path = tmp_path_factory.mktemp("p") / "profile.yaml"
    path.write_text(text)
    try:
        check_profile(path)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
