"""Bags recorded by others (issue 19, items 11-14): a bag without any configured topic is one
clear error listing the topics it has (rosbags reads an empty connection list as "all")."""

import shutil

import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from vla_driving.data import BagError, BagTopics, read_bag

AUTOWARE = "bags/autoware_kinematic_state/bag_ego_trajectory.db3"
STORE = get_typestore(Stores.ROS2_HUMBLE)


def _chatter_bag(path, storage):
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    String = STORE.types["std_msgs/msg/String"]
    with Writer(path, version=9, storage_plugin=plugin) as w:
        conn = w.add_connection("/chatter", "std_msgs/msg/String", typestore=STORE)
        for i in range(20):
            w.write(conn, 1_000 + i, STORE.serialize_cdr(String(data=f"hello {i}"),
                                                         "std_msgs/msg/String"))
    return path


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_a_bag_without_the_configured_topics_is_one_line_listing_its_topics(tmp_path, storage):
    bag = _chatter_bag(tmp_path / "talker", storage)
    with pytest.raises(BagError) as err:
        read_bag(bag, BagTopics())
    text = str(err.value)
    assert "none of the configured topics" in text and "/chatter (std_msgs/msg/String)" in text
    assert "\n" not in text


def test_the_autoware_bag_with_default_topics_names_its_odometry_topic(shared_dir, tmp_path):
    copy = tmp_path / "bag.db3"
    shutil.copy(shared_dir / AUTOWARE, copy)
    with pytest.raises(BagError, match=r"/localization/kinematic_state \(nav_msgs/msg/Odometry\)"):
        read_bag(copy, BagTopics())
