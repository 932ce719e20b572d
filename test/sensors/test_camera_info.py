"""CameraInfo checks of the ingest: frames of a camera whose calibration is missing or describes
another image size are refused with one line naming the camera and the mismatch."""

import numpy as np
import pytest

from vla_driving.configuration import ConfigError
from vla_driving.policy.planner_inputs import CAMERA_INFO, input_sources
from vla_driving.sensors import Ingest, IngestConfig, RawImage
from vla_driving.sensors.camera_info import REASON_CAMERA_INFO, CameraInfoFields
from vla_driving.sim.camera_config import PerspectiveConfig

MS = 1_000_000
CFG = IngestConfig(cameras=["front", "bev"], camera_info_cameras=["front"])


def raw(w, h):
    return RawImage(h, w, "rgb8", w * 3, np.zeros((h, w, 3), np.uint8).tobytes())


def info_of(cfg: PerspectiveConfig) -> CameraInfoFields:
    fields = cfg.camera_info(cfg.names[0])
    return CameraInfoFields(fields["width"], fields["height"], tuple(fields["k"]))


def test_missing_camera_info_refuses_the_frame_with_its_topic():
    ingest = Ingest(CFG)
    bad = ingest.on_image("front", raw(32, 18), 10 * MS, 10 * MS)
    assert bad.reason == REASON_CAMERA_INFO
    assert str(bad) == ("front: camera_info: camera front: no CameraInfo on "
                        "/carla/ego_vehicle/front/camera_info for its 32x18 image")
    assert ingest.on_image("bev", raw(8, 8), 10 * MS, 10 * MS) is None, "bev needs none"


def test_camera_info_of_another_size_is_refused_then_the_matching_one_accepted():
    ingest = Ingest(CFG)
    ingest.on_camera_info("front", info_of(PerspectiveConfig(width=640, height=360)))
    bad = ingest.on_image("front", raw(320, 180), 10 * MS, 10 * MS)
    assert bad.detail == "camera front: CameraInfo 640x360 disagrees with its 320x180 image"
    ingest.on_camera_info("front", info_of(PerspectiveConfig()))
    assert ingest.on_image("front", raw(320, 180), 20 * MS, 20 * MS) is None
    assert ingest.stats()["sources"]["front"]["rejected"] == {REASON_CAMERA_INFO: 1}


def test_a_camera_info_that_is_no_pinhole_is_refused():
    ingest = Ingest(CFG)
    ingest.on_camera_info("front", CameraInfoFields(320, 180, (0.0,) * 9))
    bad = ingest.on_image("front", raw(320, 180), 10 * MS, 10 * MS)
    assert bad.reason == REASON_CAMERA_INFO and "is not a pinhole" in bad.detail


def test_camera_info_sources_and_config():
    sources = [s for s in input_sources(CFG) if s.kind == CAMERA_INFO]
    assert [(s.topic, s.slot) for s in sources] == [("/carla/ego_vehicle/front/camera_info",
                                                     "front")]
    with pytest.raises(ConfigError, match=r"camera_info_cameras: \['rear'\] not in cameras"):
        IngestConfig(cameras=["front"], camera_info_cameras=["rear"])
