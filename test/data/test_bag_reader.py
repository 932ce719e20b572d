"""The bag reader on real bags: the Autoware recording, and bags written here in both storages,
intact and damaged (cut short, missing topic, out-of-order stamps, a camera that stops)."""

import shutil

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer

from vla_driving.constants import NS_PER_S
from vla_driving.data import BagError, BagTopics, build_samples, read_bag
from vla_driving.data.images import decode_image, encode_jpeg
from vla_driving.data.topics import camera_topic
from vla_driving_training.data import messages as M

AUTOWARE = "bags/autoware_kinematic_state/bag_ego_trajectory.db3"
AUTOWARE_TOPICS = BagTopics(odometry="/localization/kinematic_state")
T0 = 1_700_000_000 * NS_PER_S
CAMS = ["front"]
TOPICS = BagTopics(cameras=CAMS, camera_topics=[camera_topic("front")], odometry="/odom",
                   instruction="/instruction")


def write_bag(path, storage="mcap", n=80, camera_until=None, odom_order=None, with_instr=True):
    """A 10 Hz bag: odometry of a car at 5 m/s, one JPEG camera, an instruction topic."""
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    img = encode_jpeg(np.full((16, 16, 3), 128, np.uint8))
    order = odom_order if odom_order is not None else range(n)
    with Writer(path, version=9, storage_plugin=plugin) as w:
        odom = w.add_connection("/odom", M.ODOMETRY, typestore=M.STORE)
        cam = w.add_connection(camera_topic("front"), M.COMPRESSED_IMAGE, typestore=M.STORE)
        instr = w.add_connection("/instruction", M.STRING, typestore=M.STORE) if with_instr else None
        for k, i in enumerate(order):
            t = T0 + i * NS_PER_S // 10
            w.write(odom, T0 + k * NS_PER_S // 10,
                    M.serialize(M.odometry(t, 0.5 * i, 0.0, 0.0, 5.0, 0.0), M.ODOMETRY))
            if camera_until is None or i < camera_until:
                w.write(cam, t, M.serialize(M.compressed_image(t, "front", img),
                                            M.COMPRESSED_IMAGE))
            if instr is not None:
                w.write(instr, t, M.serialize(M.string("keep the current lane"), M.STRING))
    return path


def test_real_autoware_sqlite_bag_without_metadata_or_images(shared_dir):
    bag = read_bag(shared_dir / AUTOWARE, AUTOWARE_TOPICS)
    r = bag.report
    assert r.counts == {"/localization/kinematic_state": 2130} and r.storage == "sqlite3"
    assert r.mismatches() == [] and 52 < r.span_s < 54
    assert any("no camera frames" in n for n in r.notes)
    samples, report = build_samples(bag, ["bev_near"])
    assert not report.has_frames and len(samples) > 400 and samples[0].images == {}
    speeds = np.array([s.labels.ego[0] for s in samples])
    assert 0.5 < speeds.max() < 10.0                 # a parking-lot drive, m/s
    assert {s.labels.meta.steering for s in samples} >= {"straight", "turn_left", "turn_right"}


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_both_storages_read_to_the_same_samples(tmp_path, storage):
    bag = read_bag(write_bag(tmp_path / "b", storage), TOPICS)
    assert bag.report.storage == storage and bag.report.mismatches() == []
    assert bag.report.counts == {"/odom": 80, camera_topic("front"): 80, "/instruction": 80}
    samples, report = build_samples(bag, CAMS)
    assert report.kept == len(samples) == 80 - 30       # the last 3 s have no full horizon
    s = samples[10]
    np.testing.assert_allclose(s.labels.waypoints[:, 0], 5.0 * 0.5 * np.arange(1, 7), atol=1e-3)
    assert s.instruction == "keep the current lane"
    assert decode_image(*s.images["front"]).shape == (16, 16, 3)


def test_missing_topic_and_out_of_order_stamps_are_reported_and_the_rest_kept(tmp_path):
    order = list(range(60))
    order[30], order[31] = order[31], order[30]      # one message recorded late
    order.insert(40, 39)                             # one duplicate
    bag = read_bag(write_bag(tmp_path / "b", odom_order=order, with_instr=False), TOPICS)
    r = bag.report
    assert r.missing_topics == ["/instruction"]
    assert r.skipped[("/odom", "out-of-order stamp")] == 1
    assert r.skipped[("/odom", "duplicate stamp")] == 1
    assert r.counts["/odom"] == 59
    assert any("metadata says 61 messages, kept 59" in m for m in r.mismatches())
    assert len(build_samples(bag, CAMS)[0]) > 20


def test_camera_that_stops_is_reported_and_later_frames_are_skipped(tmp_path):
    bag = read_bag(write_bag(tmp_path / "b", n=100, camera_until=50), TOPICS)
    assert any("camera front stops" in n for n in bag.report.notes)
    both = BagTopics(cameras=["front", "rear"], camera_topics=[camera_topic("front"),
                                                               camera_topic("rear")],
                     odometry="/odom", instruction="/instruction")
    samples, report = build_samples(read_bag(tmp_path / "b", both), ["front", "rear"])
    assert samples == [] and report.skipped["no rear frame within 0.05 s"] == 50


def test_mcap_cut_short_is_salvaged_up_to_the_damage(tmp_path):
    # 1 MiB chunks: 160 frames of noise images span several chunks, the cut loses the last one
    noise = np.random.default_rng(0).integers(0, 255, (96, 96, 3), dtype=np.uint8)
    path = tmp_path / "b"
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as w:
        odom = w.add_connection("/odom", M.ODOMETRY, typestore=M.STORE)
        cam = w.add_connection(camera_topic("front"), M.COMPRESSED_IMAGE, typestore=M.STORE)
        for i in range(160):
            t = T0 + i * NS_PER_S // 10
            w.write(odom, t, M.serialize(M.odometry(t, 0.5 * i, 0, 0, 5.0, 0), M.ODOMETRY))
            w.write(cam, t, M.serialize(M.compressed_image(t, "front", encode_jpeg(noise, 95)),
                                        M.COMPRESSED_IMAGE))
    mcap = next(path.glob("*.mcap"))
    cut = tmp_path / "cut"
    cut.mkdir()
    data = mcap.read_bytes()
    (cut / mcap.name).write_bytes(data[: int(len(data) * 0.8)])
    bag = read_bag(cut, TOPICS)
    r = bag.report
    assert r.truncated and any("salvaged" in n for n in r.notes)
    assert 20 < r.counts["/odom"] < 160
    assert len(build_samples(bag, CAMS)[0]) > 0


def test_unreadable_input_gives_a_clear_error(tmp_path):
    with pytest.raises(BagError, match="not found"):
        read_bag(tmp_path / "nope")
    junk = tmp_path / "junk.db3"
    junk.write_bytes(b"not a database at all" * 10)
    bag = read_bag(junk)
    assert bag.odometry is None and bag.report.truncated
    assert build_samples(bag, CAMS)[1].skipped["no odometry"] == 1


def test_bag_folder_copy_without_metadata_reads_from_its_file(tmp_path):
    src = write_bag(tmp_path / "b", "sqlite3")
    bare = tmp_path / "bare.db3"
    shutil.copy(next(src.glob("*.db3")), bare)
    assert read_bag(bare, TOPICS).report.counts["/odom"] == 80
