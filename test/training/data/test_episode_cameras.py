"""Perspective cameras in generated bags (issue 16): compressed images with a CameraInfo beside
each, any subset of views in a dataset, and a CameraInfo of another size refused in one line."""

import numpy as np
import pytest
from rosbags.rosbag2 import Reader, Writer

from vla_driving.data import read_bag
from vla_driving.data.bag_reader import BagError, camera_info_beside
from vla_driving.data.topics import camera_info_topic, camera_topic
from vla_driving.sim import SimConfig
from vla_driving.sim.camera_config import PerspectiveConfig
from vla_driving_training.data import messages as M
from vla_driving_training.data.dataset import DatasetConfig, DrivingDataset
from vla_driving_training.data.episode import BAG_VERSION, BagOut, EpisodeSpec, run_episode
from vla_driving_training.data.gen_config import GenerateConfig

pytest.importorskip("panda3d", reason="panda3d not installed (the `sim` extra)")

SIM = SimConfig(cameras=["bev_near", "front", "front_left"], camera_spans_m=[40.0],
                image_size=32, perspective=PerspectiveConfig(width=96, height=54))


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    cfg = GenerateConfig(sim=SIM, episode_s=5.0)   # 3 s of labels need 3 s of future
    return run_episode(EpisodeSpec("highway", 0, 11), tmp_path_factory.mktemp("cams"), cfg)["path"]


def test_generator_writes_compressed_perspective_images_and_their_camera_infos(bag):
    with Reader(bag) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        counts = {c.topic: c.msgcount for c in reader.connections}
    for cam in ("front", "front_left"):
        assert types[camera_topic(cam)] == "sensor_msgs/msg/CompressedImage"
        assert types[camera_info_topic(cam)] == "sensor_msgs/msg/CameraInfo"
        assert counts[camera_info_topic(cam)] == counts[camera_topic(cam)] == 50
    assert camera_info_topic("bev_near") not in types, "a bird's-eye view is no pinhole camera"
    data = read_bag(bag, DatasetConfig(cameras=["front", "bev_near"]).topics.for_cameras(
        ["front", "bev_near"]))
    info = data.camera_infos["front"]
    assert (info.width, info.height) == (96, 54)
    assert info.k == pytest.approx(SIM.perspective.camera_info("front")["k"])
    assert data.report.missing_topics == [] and data.report.absent_optional == []


@pytest.mark.parametrize("cameras", [["front_left"], ["front", "bev_near"], ["bev_near"]])
def test_a_dataset_reads_any_subset_of_views(bag, cameras):
    ds = DrivingDataset([bag], DatasetConfig(cameras=cameras, image_size=24))
    images = ds[3]["images"]
    assert tuple(images.shape) == (2, len(cameras), 3, 24, 24)
    assert images.float().std() > 0


def test_a_camera_info_of_another_size_fails_the_read_with_the_camera_named(tmp_path):
    path = tmp_path / "bad"
    wrong = PerspectiveConfig(width=640, height=360).camera_info("front")
    with Writer(path, version=BAG_VERSION) as writer:
        out = BagOut(writer, ["front"], infos={"front": wrong})
        for i in range(3):
            stamp = (i + 1) * 100_000_000
            out.put(camera_info_topic("front"), stamp, M.camera_info(stamp, "front", wrong))
            out.put(camera_topic("front"), stamp, M.compressed_image(
                stamp, "front", _jpeg(np.zeros((180, 320, 3), np.uint8))))
            out.put("/carla/ego_vehicle/odometry", stamp, M.odometry(stamp, i, 0, 0, 10, 0))
    with pytest.raises(BagError, match="camera front: CameraInfo 640x360 disagrees with its "
                                       "320x180 image$"):
        read_bag(path, DatasetConfig(cameras=["front"]).topics.for_cameras(["front"]))


def test_camera_info_sits_beside_the_image_topic():
    assert camera_info_beside(camera_topic("front")) == camera_info_topic("front")
    assert camera_info_beside("/cam/image_raw") == "/cam/camera_info"


def _jpeg(img):
    from vla_driving.data.images import encode_jpeg
    return encode_jpeg(img)


def test_contact_sheet_draws_the_future_where_the_camera_sees_the_road():
    from vla_driving_training.data.contact_sheet import TILE, _on_ground, _rig

    info = {"config": {"sim": SIM.to_dict()}}
    rig = _rig(info, "front")
    assert _rig(info, "bev_near") is None
    k, m = rig.pinhole(), rig.mount("front")
    (u, v), = _on_ground(rig, "front", np.array([[10.0, 0.0], [-5.0, 0.0]]))  # behind: dropped
    assert u == pytest.approx(k.cx * TILE / k.width)
    assert v == pytest.approx((k.cy + k.fy * m.z / (10.0 - m.x)) * TILE / k.height)
