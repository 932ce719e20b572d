"""CameraInfo, as far as the ingest relies on it: the image size it describes and its pinhole.

A camera's CameraInfo (carla-ros-bridge publishes one beside every image) must describe the
images that camera sends; a calibration for another resolution would put every projected point
in the wrong place, so such frames are refused with one line naming the camera and the mismatch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

REASON_CAMERA_INFO = "camera_info"


@dataclass(frozen=True)
class CameraInfoFields:
    """`sensor_msgs/CameraInfo` fields the checks read (k row-major, 9 values)."""

    width: int
    height: int
    k: tuple[float, ...]


def camera_info_mismatch(camera: str, info: CameraInfoFields | None, width: int, height: int,
                         topic: str = "") -> str | None:
    """None when `info` describes a `width` x `height` image of a pinhole camera, else why not."""
    if info is None:
        return f"camera {camera}: no CameraInfo" + (f" on {topic}" if topic else "") + \
            f" for its {width}x{height} image"
    if (info.width, info.height) != (width, height):
        return (f"camera {camera}: CameraInfo {info.width}x{info.height} disagrees with its "
                f"{width}x{height} image")
    k = info.k
    if len(k) != 9 or not all(math.isfinite(v) for v in k) or k[0] <= 0 or k[4] <= 0 \
            or not (0 <= k[2] <= width and 0 <= k[5] <= height):
        return (f"camera {camera}: CameraInfo k={list(k)} is not a pinhole of its "
                f"{width}x{height} image (fx, fy > 0, principal point inside)")
    return None
