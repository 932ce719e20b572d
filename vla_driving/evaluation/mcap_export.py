"""Write evaluated inputs and predictions to an MCAP rosbag2 that opens in Foxglove.

Written with `rosbags` (pure Python, no rclpy): the camera inputs as the policy saw them
(sensor_msgs/CompressedImage, JPEG), every policy's plan as nav_msgs/Path in the ego frame and
its decision text as std_msgs/String, all stamped with the source image time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from vla_driving.constants import FRAME_EGO, NS_PER_S
from vla_driving.types import Plan

MCAP_VERSION = 9
JPEG_QUALITY = 90
IMAGE_TOPIC = "/eval/{camera}/image/compressed"
PATH_TOPIC = "/eval/{policy}/path"
TRUE_PATH_TOPIC = "/eval/ground_truth/path"
DECISION_TOPIC = "/eval/{policy}/decision"


@dataclass
class McapFrame:
    """One planning cycle to record: the inputs and every policy's plan."""

    stamp_ns: int
    images: dict[str, np.ndarray]
    plans: dict[str, Plan] = field(default_factory=dict)
    true_waypoints: np.ndarray | None = None


def _typestore():
    from rosbags.typesys import Stores, get_typestore
    return get_typestore(Stores.ROS2_HUMBLE)


def _header(ts, stamp_ns: int, frame_id: str):
    stamp = ts.types["builtin_interfaces/msg/Time"](sec=int(stamp_ns // NS_PER_S),
                                                   nanosec=int(stamp_ns % NS_PER_S))
    return ts.types["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id)


def jpeg_bytes(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def path_message(ts, stamp_ns: int, waypoints: np.ndarray, frame_id: str = FRAME_EGO):
    t = ts.types
    header = _header(ts, stamp_ns, frame_id)
    poses = []
    for x, y in np.asarray(waypoints, dtype=np.float64).reshape(-1, 2):
        pose = t["geometry_msgs/msg/Pose"](
            position=t["geometry_msgs/msg/Point"](x=float(x), y=float(y), z=0.0),
            orientation=t["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0))
        poses.append(t["geometry_msgs/msg/PoseStamped"](header=header, pose=pose))
    return t["nav_msgs/msg/Path"](header=header, poses=poses)


def decision_text(plan: Plan) -> str:
    text = plan.meta_action.text()
    if plan.description:
        text += f" | {plan.description}"
    return text


class McapRecorder:
    """Opened once per report; `add(frame)` per planning cycle; `close()` finishes the file."""

    def __init__(self, path: str | Path):
        from rosbags.rosbag2 import StoragePlugin, Writer
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path} exists; choose a new report directory")
        self._ts = _typestore()
        self._writer = Writer(self.path, version=MCAP_VERSION, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self._connections: dict[str, object] = {}
        self.messages = 0

    def _write(self, topic: str, msgtype: str, stamp_ns: int, msg) -> None:
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(topic, msgtype,
                                                                   typestore=self._ts)
        data = self._ts.serialize_cdr(msg, msgtype)
        self._writer.write(self._connections[topic], int(stamp_ns), data)
        self.messages += 1

    def add(self, frame: McapFrame) -> None:
        ts = self._ts
        for camera, image in frame.images.items():
            msg = ts.types["sensor_msgs/msg/CompressedImage"](
                header=_header(ts, frame.stamp_ns, camera), format="jpeg",
                data=np.frombuffer(jpeg_bytes(image), dtype=np.uint8))
            self._write(IMAGE_TOPIC.format(camera=camera), "sensor_msgs/msg/CompressedImage",
                        frame.stamp_ns, msg)
        for policy, plan in frame.plans.items():
            self._write(PATH_TOPIC.format(policy=policy), "nav_msgs/msg/Path", frame.stamp_ns,
                        path_message(ts, plan.stamp_ns, plan.waypoints))
            self._write(DECISION_TOPIC.format(policy=policy), "std_msgs/msg/String",
                        frame.stamp_ns, ts.types["std_msgs/msg/String"](data=decision_text(plan)))
        if frame.true_waypoints is not None:
            self._write(TRUE_PATH_TOPIC, "nav_msgs/msg/Path", frame.stamp_ns,
                        path_message(ts, frame.stamp_ns, frame.true_waypoints))

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> "McapRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
