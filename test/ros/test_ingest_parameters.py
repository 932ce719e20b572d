"""ROS parameters declared from config dataclasses, and message <-> plain-type conversions."""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.sensors.config import IngestConfig

pytestmark = pytest.mark.ros

CARLA = Path(__file__).resolve().parents[2] / "config" / "carla.yaml"


@dataclass
class _Planner(Config):
    rate_hz: float = param(10.0, "planning rate", low=0.1, high=100.0)
    ingest: IngestConfig = param(IngestConfig(), "embedded ingest")


@pytest.fixture
def context():
    import rclpy
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    yield ctx
    rclpy.try_shutdown(context=ctx)


def _node(context, overrides, name="param_test"):
    from rclpy.node import Node
    return Node(name, context=context, parameter_overrides=overrides)


def test_yaml_overrides_declare_the_same_config_as_from_yaml(context):
    from vla_driving.ros.parameters import declare_config, yaml_overrides

    node = _node(context, yaml_overrides(CARLA, "camera_ingest"))
    try:
        cfg = declare_config(node, IngestConfig)
        assert cfg == IngestConfig.from_yaml(CARLA, "camera_ingest")
        assert node.get_parameter("cameras").value == cfg.cameras
        description = node.describe_parameter("sync_tolerance_s").description
        assert "anchor" in description
    finally:
        node.destroy_node()


def test_int_for_float_is_accepted_and_bad_value_names_node_and_key(context):
    from rclpy.parameter import Parameter

    from vla_driving.ros.parameters import declare_config

    node = _node(context, [Parameter("hold_max_s", value=1)])
    try:
        assert declare_config(node, IngestConfig).hold_max_s == 1.0
    finally:
        node.destroy_node()
    node = _node(context, [Parameter("buffer_len", value=1000)], name="bad_params")
    try:
        with pytest.raises(ConfigError, match=r"bad_params: parameter buffer_len=1000: out of "
                                              r"range \[1, 100\]"):
            declare_config(node, IngestConfig)
    finally:
        node.destroy_node()


def test_nested_config_uses_dotted_names_and_round_trips(context):
    from vla_driving.ros.parameters import config_overrides, declare_config

    wanted = _Planner(rate_hz=5, ingest=IngestConfig(cameras=["a", "b"], history=2))
    node = _node(context, config_overrides(wanted))
    try:
        assert declare_config(node, _Planner) == wanted
        assert node.get_parameter("ingest.cameras").value == ["a", "b"]
    finally:
        node.destroy_node()


@pytest.mark.parametrize("encoding, shape, dtype", [
    ("rgb8", (5, 7, 3), np.uint8), ("bgr8", (5, 7, 3), np.uint8), ("mono8", (5, 7), np.uint8),
    ("mono16", (5, 7), np.uint16)])
def test_image_message_round_trip(encoding, shape, dtype):
    from vla_driving.ros.conversions import image_fields, image_msg, stamp_to_ns
    from vla_driving.sensors.decode import decode

    image = np.random.default_rng(1).integers(0, np.iinfo(dtype).max, shape, dtype=dtype)
    msg = image_msg(image, 12_000_000_345, "cam", encoding)
    assert stamp_to_ns(msg.header.stamp) == 12_000_000_345
    decoded = decode(image_fields(msg))
    expected = image[:, :, ::-1] if encoding == "bgr8" else image
    np.testing.assert_array_equal(decoded, expected)


def test_odometry_conversion_round_trip():
    from vla_driving.ros.conversions import odometry_fields, odometry_msg
    from vla_driving.sensors.odometry import ego_from_odometry
    from vla_driving.types import EgoState

    ego = EgoState(stamp_ns=3 * 10**9 + 7, x=1.5, y=-2.0, yaw=2.5, speed=4.0, yaw_rate=-0.2)
    fields = odometry_fields(odometry_msg(ego))
    back = ego_from_odometry(fields)
    assert back.stamp_ns == ego.stamp_ns and back.speed == 4.0 and back.yaw_rate == -0.2
    assert math.isclose(back.yaw, 2.5, abs_tol=1e-12) and (back.x, back.y) == (1.5, -2.0)
