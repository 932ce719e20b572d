"""A bag whose message types are not in the reader's store is decoded from the type definitions
it carries itself (MCAP schemas, rosbag2 sqlite3 message definitions), as the rosbag2 `cdr_test`
bag needs."""

import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from vla_driving.data import BagTopics, read_bag

TYPE = "fleet_msgs/msg/Instruction"


def _bag(path, storage):
    """A bag (written here) of a type that only its own schema defines, with a nested
    dependency (std_msgs/Header) in the same schema."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    store.register(get_types_from_msg("std_msgs/Header header\nstring data\nuint8 level\n", TYPE))
    Instruction, Header = store.types[TYPE], store.types["std_msgs/msg/Header"]
    Time = store.types["builtin_interfaces/msg/Time"]
    with Writer(path, version=9, storage_plugin=storage) as writer:
        conn = writer.add_connection("/fleet/instruction", TYPE, typestore=store)
        for i in range(7):
            msg = Instruction(Header(Time(100 + i, 0), "map"), f"turn left {i}", i)
            writer.write(conn, (100 + i) * 10**9, store.serialize_cdr(msg, TYPE))
    return path


@pytest.mark.parametrize("storage", [StoragePlugin.MCAP, StoragePlugin.SQLITE3])
def test_types_the_bag_defines_itself_are_registered_before_decoding(tmp_path, storage):
    assert TYPE not in get_typestore(Stores.ROS2_HUMBLE).types
    bag = read_bag(_bag(tmp_path / "bag", storage), BagTopics(instruction="/fleet/instruction"))
    assert [text for _, text in bag.instructions] == [f"turn left {i}" for i in range(7)]
    assert bag.instructions[0][0] == 100 * 10**9            # the header stamp was decoded
    assert not bag.report.skipped and not bag.report.mismatches()
    assert any(TYPE in note and "registered" in note for note in bag.report.notes)


def _poses_bag(path, msgtype):
    """Odometry recorded as poses only (a vehicle that logs geometry_msgs/PoseStamped)."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    T = store.types
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/pose", msgtype, typestore=store)
        for i in range(30):            # 10 m/s along x, 10 Hz
            stamp = T["builtin_interfaces/msg/Time"](100 + i // 10, (i % 10) * 100_000_000)
            header = T["std_msgs/msg/Header"](stamp, "map")
            pose = T["geometry_msgs/msg/Pose"](T["geometry_msgs/msg/Point"](1.0 * i, 0.0, 0.0),
                                               T["geometry_msgs/msg/Quaternion"](0.0, 0.0, 0.0, 1.0))
            msg = (T[msgtype](header, pose) if msgtype.endswith("PoseStamped") else
                   T["std_msgs/msg/String"](f"not a pose {i}"))
            writer.write(conn, (100 * 10 + i) * 10**8, store.serialize_cdr(msg, msgtype))
    return path


def test_poses_serve_as_odometry_with_speed_from_the_positions(tmp_path):
    bag = read_bag(_poses_bag(tmp_path / "b", "geometry_msgs/msg/PoseStamped"),
                   BagTopics(odometry="/pose", cameras=[], camera_topics=[]))
    assert len(bag.odometry.t_ns) == 30 and bag.yaw_rate is None
    assert abs(float(bag.odometry.speed[15]) - 10.0) < 1e-6
    assert any("poses only" in note for note in bag.report.notes)


def test_a_topic_of_the_wrong_type_is_skipped_with_its_reason(tmp_path):
    bag = read_bag(_poses_bag(tmp_path / "b", "std_msgs/msg/String"),
                   BagTopics(odometry="/pose", cameras=[], camera_topics=[]))
    assert bag.odometry is None
    (topic, reason), count = next(iter(bag.report.skipped.items()))
    assert topic == "/pose" and count == 30 and "std_msgs/msg/String cannot serve as odometry" \
        in reason


def _named_bag(path, storage, msgtype, with_definition):
    """Seven Instructions recorded under `msgtype`, with or without the bag's own definition."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    store.register(get_types_from_msg("std_msgs/Header header\nstring data\nuint8 level\n", TYPE))
    Instruction, Header = store.types[TYPE], store.types["std_msgs/msg/Header"]
    Time = store.types["builtin_interfaces/msg/Time"]
    msgdef = store.generate_msgdef(TYPE, ros_version=2)[0] if with_definition else ""
    with Writer(path, version=9, storage_plugin=storage) as writer:
        conn = writer.add_connection("/fleet/instruction", msgtype, msgdef=msgdef,
                                     rihs01="RIHS01_" + "0" * 64)
        for i in range(7):
            msg = Instruction(Header(Time(100 + i, 0), "map"), f"turn left {i}", i)
            writer.write(conn, (100 + i) * 10**9, store.serialize_cdr(msg, TYPE))
    return path


@pytest.mark.parametrize("storage", [StoragePlugin.MCAP, StoragePlugin.SQLITE3])
def test_a_ros1_style_type_name_decodes_from_its_own_definition(tmp_path, storage):
    """rosbag2's seek test bag names its type `test_msgs/BasicTypes`; rosbags registers the
    definition as `test_msgs/msg/BasicTypes`, and decoding by the bag's name failed (KeyError)."""
    bag = read_bag(_named_bag(tmp_path / "b", storage, "fleet_msgs/Instruction", True),
                   BagTopics(instruction="/fleet/instruction"))
    assert [text for _, text in bag.instructions] == [f"turn left {i}" for i in range(7)]
    assert not bag.report.skipped


@pytest.mark.parametrize("storage", [StoragePlugin.MCAP, StoragePlugin.SQLITE3])
def test_a_type_nobody_defines_is_skipped_with_that_reason(tmp_path, storage):
    bag = read_bag(_named_bag(tmp_path / "b", storage, TYPE, False),
                   BagTopics(instruction="/fleet/instruction"))
    assert bag.instructions == []
    (topic, reason), count = next(iter(bag.report.skipped.items()))
    assert topic == "/fleet/instruction" and count == 7
    assert reason.startswith(f"unknown type {TYPE}: not a ROS 2 Humble type and no definition")
