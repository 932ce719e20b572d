"""The message packages built from interfaces/ (make install) serialise as their definitions.

Each type is filled with distinct values and serialised by rclpy (the generated C type support)
and by `rosbags` from the same `.msg` files; each side reads the other's bytes back to the same
message (byte equality would compare alignment padding, which Fast CDR leaves unset).
"""

import importlib
from pathlib import Path

import pytest
from stack_test_helpers import require_message_package
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.base import Nodetype

pytestmark = pytest.mark.ros

INTERFACES = Path(__file__).resolve().parents[2] / "interfaces"
MSG_FILES = sorted(INTERFACES.glob("*/msg/*.msg"))


def type_name(msg: Path) -> str:
    return f"{msg.parts[-3]}/msg/{msg.stem}"


@pytest.fixture(scope="module")
def typestore():
    store = get_typestore(Stores.ROS2_HUMBLE)
    for msg in MSG_FILES:
        store.register(get_types_from_msg(msg.read_text(), type_name(msg)))
    return store


def sample(store, msgtype: str, counter: list[int]) -> dict:
    """Nested values for every field, each number different (bools alternate)."""
    _, fields = store.fielddefs[msgtype]
    out = {}
    for name, (kind, sub) in fields:
        counter[0] += 1
        if kind == Nodetype.NAME:
            out[name] = sample(store, sub, counter)
        elif kind == Nodetype.BASE:
            out[name] = base_value(sub[0], counter[0])
        elif kind == Nodetype.SEQUENCE and sub[0][0] == Nodetype.NAME:
            out[name] = [sample(store, sub[0][1], counter) for _ in range(2)]
        else:
            raise AssertionError(f"field kind not covered by this test: {msgtype}.{name}")
    return out


def base_value(kind: str, n: int):
    if kind == "bool":
        return n % 2 == 1
    if kind == "string":
        return f"s{n}"
    if kind.startswith("float"):
        return n + 0.25
    if kind in ("uint32", "int32") and n > 0:
        return n
    raise AssertionError(kind)


def to_rosbags(store, msgtype: str, values: dict):
    _, fields = store.fielddefs[msgtype]
    kwargs = {}
    for name, (kind, sub) in fields:
        value = values[name]
        if kind == Nodetype.NAME:
            value = to_rosbags(store, sub, value)
        elif kind == Nodetype.SEQUENCE:
            value = [to_rosbags(store, sub[0][1], v) for v in value]
        kwargs[name] = value
    return store.types[msgtype](**kwargs)


def to_rclpy(cls, values: dict):
    msg = cls()
    for name, value in values.items():
        current = getattr(msg, name)
        if isinstance(value, dict):
            value = to_rclpy(type(current), value)
        elif isinstance(value, list):
            item_cls = type(msg).SLOT_TYPES[list(type(msg).get_fields_and_field_types()).index(name)]
            value = [to_rclpy(import_class(item_cls.value_type), v) for v in value]
        setattr(msg, name, value)
    return msg


def import_class(namespaced):
    module = importlib.import_module(".".join(namespaced.namespaces))
    return getattr(module, namespaced.name)


@pytest.mark.parametrize("msg_file", MSG_FILES, ids=type_name)
def test_built_type_serialises_as_its_definition(typestore, msg_file):
    from rclpy.serialization import deserialize_message, serialize_message

    msgtype = type_name(msg_file)
    package, _, name = type_name(msg_file).split("/")
    require_message_package(package)
    cls = getattr(importlib.import_module(f"{package}.msg"), name)
    values = sample(typestore, msgtype, [0])
    ours = to_rclpy(cls, values)
    theirs = bytes(typestore.serialize_cdr(to_rosbags(typestore, msgtype, values), msgtype))
    assert deserialize_message(theirs, cls) == ours
    read_back = typestore.deserialize_cdr(bytes(serialize_message(ours)), msgtype)
    assert bytes(typestore.serialize_cdr(read_back, msgtype)) == theirs
