"""Build and serialise the ROS messages a vehicle records, with `rosbags` (no rclpy needed)."""

from __future__ import annotations

import numpy as np
from rosbags.typesys import Stores, get_typestore

from vla_driving.constants import NS_PER_S

STORE = get_typestore(Stores.ROS2_HUMBLE)
T = STORE.types
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
ODOMETRY = "nav_msgs/msg/Odometry"
STRING = "std_msgs/msg/String"
BOOL = "std_msgs/msg/Bool"
FRAME_ODOM = "map"
FRAME_EGO = "ego_vehicle"
BAG_VERSION = 9   # rosbag2 metadata version of the bags written here


def header(stamp_ns: int, frame_id: str):
    sec, nsec = divmod(int(stamp_ns), NS_PER_S)
    return T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=sec, nanosec=nsec),
                                    frame_id=frame_id)


def compressed_image(stamp_ns: int, frame_id: str, jpeg: bytes):
    return T[COMPRESSED_IMAGE](header=header(stamp_ns, frame_id), format="jpeg",
                               data=np.frombuffer(jpeg, dtype=np.uint8))


def camera_info(stamp_ns: int, frame_id: str, fields: dict):
    """From `PerspectiveConfig.camera_info` fields (width, height, model, d, k, r, p)."""
    f64 = lambda v: np.asarray(v, dtype=np.float64)  # noqa: E731
    roi = T["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0,
                                                do_rectify=False)
    return T[CAMERA_INFO](header=header(stamp_ns, frame_id), height=int(fields["height"]),
                          width=int(fields["width"]), distortion_model=fields["distortion_model"],
                          d=f64(fields["d"]), k=f64(fields["k"]), r=f64(fields["r"]),
                          p=f64(fields["p"]), binning_x=0, binning_y=0, roi=roi)


def odometry(stamp_ns: int, x: float, y: float, yaw: float, speed: float, yaw_rate: float):
    v3, q = T["geometry_msgs/msg/Vector3"], T["geometry_msgs/msg/Quaternion"]
    pose = T["geometry_msgs/msg/Pose"](
        position=T["geometry_msgs/msg/Point"](x=float(x), y=float(y), z=0.0),
        orientation=q(x=0.0, y=0.0, z=float(np.sin(yaw / 2)), w=float(np.cos(yaw / 2))))
    twist = T["geometry_msgs/msg/Twist"](linear=v3(x=float(speed), y=0.0, z=0.0),
                                         angular=v3(x=0.0, y=0.0, z=float(yaw_rate)))
    cov = np.zeros(36, dtype=np.float64)
    return T[ODOMETRY](header=header(stamp_ns, FRAME_ODOM), child_frame_id=FRAME_EGO,
                       pose=T["geometry_msgs/msg/PoseWithCovariance"](pose=pose, covariance=cov),
                       twist=T["geometry_msgs/msg/TwistWithCovariance"](twist=twist,
                                                                       covariance=cov.copy()))


def string(text: str):
    return T[STRING](data=text)


def boolean(value: bool):
    return T[BOOL](data=bool(value))


def serialize(msg, msgtype: str) -> bytes:
    return bytes(STORE.serialize_cdr(msg, msgtype))
