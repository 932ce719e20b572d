"""Bags recorded by others (issue 19, items 13 and 14): a metadata.yaml whose offered QoS is
spelled differently from the storage file's (the rosbag2 "talker" test bags), write-ahead logs,
bare bags; the reader writes nothing into the input folder."""

import shutil
import sqlite3

import pytest
from rosbags.interfaces import (Qos, QosDurability, QosHistory, QosLiveliness, QosReliability,
                                QosTime)
from rosbags.rosbag2 import StoragePlugin, Writer

from vla_driving.constants import NS_PER_S
from vla_driving.data import BagTopics, read_bag
from vla_driving.data.salvage import Salvage
from vla_driving_training.data import messages as M

from test_bag_reader import T0, TOPICS, write_bag

INFINITE = QosTime(2147483647, 4294967295)     # rmw's "infinite" duration, as rosbag2 stores it
STORED_QOS = Qos(QosHistory.UNKNOWN, 0, QosReliability.RELIABLE, QosDurability.VOLATILE,
                 INFINITE, INFINITE, QosLiveliness.AUTOMATIC, INFINITE, False)
# metadata.yaml (version 4) of the talker bags: the same QoS with 0 for "infinite", as a string
TALKER_METADATA = """rosbag2_bagfile_information:
  version: 4
  storage_identifier: {storage}
  relative_file_paths:
    - {file}
  duration:
    nanoseconds: 900000000
  starting_time:
    nanoseconds_since_epoch: {start}
  message_count: 10
  topics_with_message_count:
    - topic_metadata:
        name: /topic
        type: std_msgs/msg/String
        serialization_format: cdr
        offered_qos_profiles: "- history: 3\\n  depth: 0\\n  reliability: 1\\n  durability: 2\\n\\
          \\  deadline:\\n    sec: 0\\n    nsec: 0\\n  lifespan:\\n    sec: 0\\n    nsec: 0\\n\\
          \\  liveliness: 1\\n  liveliness_lease_duration:\\n    sec: 0\\n    nsec: 0\\n\\
          \\  avoid_ros_namespace_conventions: false"
      message_count: 10
  compression_format: ""
  compression_mode: ""
"""


def _talker_bag(path, storage):
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer(path, version=9, storage_plugin=plugin) as w:
        conn = w.add_connection("/topic", M.STRING, typestore=M.STORE,
                                offered_qos_profiles=[STORED_QOS])
        for i in range(10):
            w.write(conn, T0 + i * NS_PER_S // 10, M.serialize(M.string(f"hello {i}"), M.STRING))
    file = next(f.name for f in path.iterdir() if f.suffix in (".mcap", ".db3"))
    (path / "metadata.yaml").write_text(TALKER_METADATA.format(storage=storage, file=file,
                                                               start=T0))
    return path


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_talker_bag_with_qos_spelled_differently_is_read_and_says_why(tmp_path, storage):
    bag = read_bag(_talker_bag(tmp_path / "talker", storage), BagTopics(instruction="/topic"))
    r = bag.report
    assert r.counts == {"/topic": 10} and r.mismatches() == [] and not r.truncated
    assert [t for _, t in bag.instructions][:2] == ["hello 0", "hello 1"]
    assert any("offered QoS or type hash differs" in n and "would read 0 messages" in n
               for n in r.notes)


def _wal_bag(tmp_path):
    """A bag whose messages are all still in the write-ahead log of an unclosed recording."""
    src = write_bag(tmp_path / "src", "sqlite3", n=10)
    db = next(src.glob("*.db3"))
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, topic_id, timestamp, data FROM messages").fetchall()
    con.execute("DELETE FROM messages")
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.executemany("INSERT INTO messages VALUES (?, ?, ?, ?)", rows)
    con.commit()
    bag = tmp_path / "bag"
    bag.mkdir()
    for f in src.iterdir():           # copied while the writer still holds the file open
        shutil.copy(f, bag / f.name)
    con.close()
    return bag


def test_a_left_write_ahead_log_is_applied_in_a_copy_not_beside_the_input(tmp_path):
    bag = _wal_bag(tmp_path)
    before = sorted((f.name, f.stat().st_size) for f in bag.iterdir())
    assert any(name.endswith("-wal") for name, _ in before)
    r = read_bag(bag, TOPICS).report
    assert r.counts["/odom"] == 10 and r.mismatches() == []
    assert any("write-ahead log" in n for n in r.notes)
    assert sorted((f.name, f.stat().st_size) for f in bag.iterdir()) == before


@pytest.mark.parametrize("bare", [False, True])
def test_reading_and_salvaging_a_wal_mode_file_leave_its_folder_as_it_was(tmp_path, bare):
    bag = write_bag(tmp_path / "b", "sqlite3", n=10)
    db = next(bag.glob("*.db3"))
    sqlite3.connect(db).execute("PRAGMA journal_mode=WAL").connection.close()
    if bare:
        (bag / "metadata.yaml").unlink()
    before = sorted(f.name for f in bag.iterdir())
    assert read_bag(bag, TOPICS).report.counts["/odom"] == 10
    assert len(list(Salvage(bag))) == 30
    assert sorted(f.name for f in bag.iterdir()) == before


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_a_healthy_bag_folder_without_metadata_reads_normally(tmp_path, storage):
    bag = write_bag(tmp_path / "b", storage, n=10)
    (bag / "metadata.yaml").unlink()
    r = read_bag(bag, TOPICS).report
    assert r.counts["/odom"] == 10 and not r.truncated
    assert not any("could not be opened normally" in n for n in r.notes)
    assert any("no metadata.yaml" in n for n in r.notes)


def _bag_with_a_late_topic(path):
    """/odom over 1 s, and one message on a topic not read six days later."""
    with Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3) as w:
        odom = w.add_connection("/odom", M.ODOMETRY, typestore=M.STORE)
        late = w.add_connection("/late", M.STRING, typestore=M.STORE)
        for i in range(10):
            t = T0 + i * NS_PER_S // 10
            w.write(odom, t, M.serialize(M.odometry(t, 0.5 * i, 0.0, 0.0, 5.0, 0.0), M.ODOMETRY))
        w.write(late, T0 + 6 * 86_400 * NS_PER_S, M.serialize(M.string("late"), M.STRING))
    return path


@pytest.mark.parametrize("bare", [False, True])
def test_no_time_span_is_compared_without_metadata_or_for_topics_not_read(tmp_path, bare):
    bag = _bag_with_a_late_topic(tmp_path / "b")
    if bare:
        bag = shutil.copy(next(bag.glob("*.db3")), tmp_path / "bare.db3")
    r = read_bag(bag, TOPICS).report
    assert r.counts["/odom"] == 10 and r.metadata_span_s == 0.0 and r.mismatches() == []
    assert r.expected == ({} if bare else {"/odom": 10})
    assert not any("could not be opened" in n for n in r.notes)


def test_the_time_span_is_compared_when_every_topic_is_read(tmp_path):
    r = read_bag(write_bag(tmp_path / "b", "sqlite3", n=10), TOPICS).report
    assert 0.8 < r.metadata_span_s < 1.0 and r.mismatches() == []
