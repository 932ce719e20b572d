"""Output adapters serialise as the real message definitions (rosbags, from ../shared/interfaces)."""

import math

import pytest
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.base import Nodetype

from vla_driving.control.adapters import ADAPTERS, adapter_for
from vla_driving.control.config import ControllerConfig
from vla_driving.control.controller import ControlCommand

CFG = ControllerConfig()
CMD = ControlCommand(stamp_ns=12_345_000_000 + 678, speed=7.5, acceleration=-1.25,
                     steering_angle=0.3, steering_rate=0.2, throttle=0.0, brake=0.4,
                     mode="tracking", reason="ok")


@pytest.fixture
def typestore(shared_dir):
    store = get_typestore(Stores.ROS2_HUMBLE)
    for msg in sorted((shared_dir / "interfaces").glob("*/msg/*.msg")):
        name = f"{msg.parts[-3]}/msg/{msg.stem}"
        store.register(get_types_from_msg(msg.read_text(), name))
    return store


def build(store, msgtype: str, values: dict):
    """A rosbags message from nested dicts; every field of the definition must be given."""
    _, fields = store.fielddefs[msgtype]
    kwargs = {}
    for name, (kind, sub) in fields:
        assert name in values, f"{msgtype}.{name} not produced by the adapter"
        kwargs[name] = build(store, sub, values[name]) if kind == Nodetype.NAME else values[name]
    assert set(values) == {n for n, _ in fields}, f"extra fields for {msgtype}"
    return store.types[msgtype](**kwargs)


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_adapter_round_trips_through_cdr(typestore, name):
    adapter = adapter_for(name)
    msg = build(typestore, adapter.msg_type, adapter.fields(CMD, CFG))
    raw = typestore.serialize_cdr(msg, adapter.msg_type)
    back = typestore.deserialize_cdr(raw, adapter.msg_type)
    assert typestore.serialize_cdr(back, adapter.msg_type) == raw
    assert_close(back, adapter.fields(CMD, CFG))


def assert_close(msg, values: dict, path=""):
    """Every value survives serialisation (float32 fields to float32 precision)."""
    for key, want in values.items():
        got = getattr(msg, key)
        if isinstance(want, dict):
            assert_close(got, want, f"{path}{key}.")
        elif isinstance(want, float):
            assert got == pytest.approx(want, rel=1e-6, abs=1e-6), path + key
        else:
            assert got == want, path + key


def test_carla_steer_is_normalised_and_positive_right(typestore):
    f = adapter_for("carla").fields(CMD, CFG)
    assert f["steer"] == pytest.approx(-0.3 / CFG.vehicle.max_steer_angle_rad)
    full_left = ControlCommand(**{**CMD.__dict__, "steering_angle": 2.0, "throttle": 3.0})
    f = adapter_for("carla").fields(full_left, CFG)
    assert f["steer"] == -1.0 and f["throttle"] == 1.0 and 0.0 <= f["brake"] <= 1.0


def test_stamps_and_physical_fields():
    ack = adapter_for("ackermann").fields(CMD, CFG)
    assert ack["header"]["stamp"] == {"sec": 12, "nanosec": 345_000_678}
    assert ack["drive"]["speed"] == 7.5 and ack["drive"]["steering_angle"] == 0.3
    tw = adapter_for("twist").fields(CMD, CFG)
    assert tw["twist"]["angular"]["z"] == pytest.approx(7.5 * math.tan(0.3) / CFG.vehicle.wheelbase_m)
    aw = adapter_for("autoware").fields(CMD, CFG)
    assert aw["longitudinal"]["velocity"] == 7.5 and aw["lateral"]["steering_tire_angle"] == 0.3


def test_unknown_adapter_is_rejected():
    with pytest.raises(ValueError, match="unknown output adapter"):
        adapter_for("joystick")
