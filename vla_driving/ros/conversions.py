"""Message <-> plain-type conversions shared by every node (the only place that knows the
message layouts; the ROS-free cores see `RawImage`, `OdometryFields`, stamps in ns)."""

from __future__ import annotations

import array
import math

import numpy as np
from builtin_interfaces.msg import Time
from nav_msgs.msg import Odometry
from std_msgs.msg import String
from sensor_msgs.msg import CompressedImage as CompressedImageMsg
from sensor_msgs.msg import CameraInfo, Image

from vla_driving.policy.planner_inputs import (CAMERA_INFO, COMPRESSED_IMAGE, IMAGE, INSTRUCTION,
                                              ODOMETRY)
from vla_driving.constants import FRAME_EGO, FRAME_MAP, NS_PER_S
from vla_driving.sensors.camera_info import CameraInfoFields
from vla_driving.sensors.decode import CompressedImage, RawImage
from vla_driving.sensors.odometry import OdometryFields
from vla_driving.types import EgoState

# numpy layout -> ROS encoding for `image_msg`
_ENCODING_CHANNELS = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1, "mono16": 1}


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time (or anything with sec/nanosec) -> int ns."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def ns_to_stamp(ns: int) -> Time:
    sec, nanosec = divmod(int(ns), NS_PER_S)
    return Time(sec=sec, nanosec=nanosec)


def image_fields(msg: Image) -> RawImage:
    """The decode inputs of a raw image; `data` is the message's own buffer (no copy)."""
    return RawImage(height=msg.height, width=msg.width, encoding=msg.encoding, step=msg.step,
                    data=msg.data, is_bigendian=bool(msg.is_bigendian))


def compressed_fields(msg: CompressedImageMsg) -> CompressedImage:
    return CompressedImage(format=msg.format, data=msg.data)


def odometry_fields(msg: Odometry) -> OdometryFields:
    pose, twist = msg.pose.pose, msg.twist.twist
    q = pose.orientation
    return OdometryFields(stamp_ns=stamp_to_ns(msg.header.stamp), x=pose.position.x,
                          y=pose.position.y, qx=q.x, qy=q.y, qz=q.z, qw=q.w,
                          vx=twist.linear.x, vy=twist.linear.y, yaw_rate=twist.angular.z)


def image_msg(image: np.ndarray, stamp_ns: int, frame_id: str, encoding: str = "rgb8") -> Image:
    """An Image message holding a copy of `image` (H x W x C uint8, or H x W for mono)."""
    channels = _ENCODING_CHANNELS.get(encoding)
    if channels is None:
        raise ValueError(f"encoding {encoding!r} is not one of {list(_ENCODING_CHANNELS)}")
    dtype = np.dtype(np.uint16 if encoding == "mono16" else np.uint8)
    pixels = np.ascontiguousarray(image, dtype=dtype.newbyteorder("<"))
    msg = Image()
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.header.frame_id = frame_id
    msg.height, msg.width = int(pixels.shape[0]), int(pixels.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = msg.width * channels * dtype.itemsize
    msg.data = array.array("B", pixels.tobytes())
    return msg


def compressed_msg(data: bytes, stamp_ns: int, frame_id: str, fmt: str) -> CompressedImageMsg:
    msg = CompressedImageMsg()
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.header.frame_id = frame_id
    msg.format = fmt
    msg.data = array.array("B", data)
    return msg


def camera_info_msg(fields: dict, stamp_ns: int, frame_id: str) -> CameraInfo:
    """A CameraInfo from `PerspectiveConfig.camera_info` fields (width, height, d, k, r, p)."""
    msg = CameraInfo()
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.header.frame_id = frame_id
    msg.width, msg.height = int(fields["width"]), int(fields["height"])
    msg.distortion_model = fields["distortion_model"]
    msg.d = [float(v) for v in fields["d"]]
    msg.k = [float(v) for v in fields["k"]]
    msg.r = [float(v) for v in fields["r"]]
    msg.p = [float(v) for v in fields["p"]]
    return msg


def camera_info_fields(msg: CameraInfo) -> CameraInfoFields:
    return CameraInfoFields(int(msg.width), int(msg.height), tuple(float(v) for v in msg.k))


def odometry_msg(ego: EgoState, frame_id: str = FRAME_MAP,
                 child_frame_id: str = FRAME_EGO) -> Odometry:
    """Odometry for an ego state (pose in `frame_id`, twist in the body frame)."""
    msg = Odometry()
    msg.header.stamp = ns_to_stamp(ego.stamp_ns)
    msg.header.frame_id = frame_id
    msg.child_frame_id = child_frame_id
    msg.pose.pose.position.x = float(ego.x)
    msg.pose.pose.position.y = float(ego.y)
    msg.pose.pose.orientation.z = math.sin(ego.yaw / 2.0)
    msg.pose.pose.orientation.w = math.cos(ego.yaw / 2.0)
    msg.twist.twist.linear.x = float(ego.speed)
    msg.twist.twist.angular.z = float(ego.yaw_rate)
    return msg


def _stamped(fields_of):
    return lambda msg: (fields_of(msg), stamp_to_ns(msg.header.stamp))


# input kind (`policy.planner_inputs`) -> (message type, msg -> (fields, stamp_ns or None))
INPUT_MESSAGES = {
    IMAGE: (Image, _stamped(image_fields)),
    COMPRESSED_IMAGE: (CompressedImageMsg, _stamped(compressed_fields)),
    CAMERA_INFO: (CameraInfo, _stamped(camera_info_fields)),
    ODOMETRY: (Odometry, lambda msg: (odometry_fields(msg), None)),
    INSTRUCTION: (String, lambda msg: (msg.data, None)),
}
