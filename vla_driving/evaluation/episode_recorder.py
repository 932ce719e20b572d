"""Record a simulator route to a rosbag2 in the layout the replay reads (carla-ros-bridge camera
and odometry topics, the instruction, and the simulator's ground-truth agents JSON), so a route
the expert drove can be replayed open loop against the model and the baselines."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from vla_driving.data.topics import CARLA_PREFIX, TOPIC_SIM_AGENTS, TOPIC_SIM_EPISODE, camera_topic
from vla_driving.evaluation.mcap_export import _header, _typestore, jpeg_bytes

BAG_VERSION = 9
COMPRESSED = "sensor_msgs/msg/CompressedImage"
ODOMETRY = "nav_msgs/msg/Odometry"
STRING = "std_msgs/msg/String"
MAP_FRAME, EGO_FRAME = "map", "ego_vehicle"


class EpisodeRecorder:
    """`record(sim, instruction)` after every simulator step; cameras every `camera_every`."""

    def __init__(self, path: str | Path, cameras: list[str], camera_every: int = 1,
                 stamp_offset_ns: int = 10**9, storage: str = "mcap"):
        from rosbags.rosbag2 import StoragePlugin, Writer
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        self.path = Path(path)
        self.ts = _typestore()
        self.writer = Writer(self.path, version=BAG_VERSION, storage_plugin=plugin)
        self.writer.open()
        self.camera_every, self.offset = camera_every, stamp_offset_ns
        topics = [(camera_topic(c), COMPRESSED) for c in cameras] + [
            (f"{CARLA_PREFIX}/odometry", ODOMETRY), (f"{CARLA_PREFIX}/instruction", STRING),
            (TOPIC_SIM_AGENTS, STRING), (TOPIC_SIM_EPISODE, STRING)]
        self.conns = {t: (self.writer.add_connection(t, m, typestore=self.ts), m)
                      for t, m in topics}
        self.steps = 0

    def _put(self, topic: str, stamp: int, msg) -> None:
        conn, msgtype = self.conns[topic]
        self.writer.write(conn, stamp, self.ts.serialize_cdr(msg, msgtype))

    def describe(self, info: dict) -> None:
        self._put(TOPIC_SIM_EPISODE, self.offset, self.ts.types[STRING](data=json.dumps(info)))

    def record(self, sim, instruction: str) -> None:
        stamp = self.offset + sim.stamp_ns
        if self.steps % self.camera_every == 0:
            for name, image in sim.render_cameras().items():
                self._put(camera_topic(name), stamp, self.ts.types[COMPRESSED](
                    header=_header(self.ts, stamp, name), format="jpeg",
                    data=np.frombuffer(jpeg_bytes(image), dtype=np.uint8)))
        self._put(f"{CARLA_PREFIX}/odometry", stamp, self._odometry(stamp, sim.ego_state()))
        self._put(f"{CARLA_PREFIX}/instruction", stamp, self.ts.types[STRING](data=instruction))
        gt = sim.ground_truth()
        gt.stamp_ns = stamp
        self._put(TOPIC_SIM_AGENTS, stamp, self.ts.types[STRING](
            data=json.dumps(gt.to_dict(), sort_keys=True)))
        self.steps += 1

    def _odometry(self, stamp: int, ego):
        t = self.ts.types
        vec = lambda x=0.0, y=0.0, z=0.0: t["geometry_msgs/msg/Vector3"](x=x, y=y, z=z)  # noqa
        pose = t["geometry_msgs/msg/Pose"](
            position=t["geometry_msgs/msg/Point"](x=ego.x, y=ego.y, z=0.0),
            orientation=t["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=math.sin(ego.yaw / 2),
                                                          w=math.cos(ego.yaw / 2)))
        twist = t["geometry_msgs/msg/Twist"](linear=vec(ego.speed), angular=vec(z=ego.yaw_rate))
        return t[ODOMETRY](
            header=_header(self.ts, stamp, MAP_FRAME), child_frame_id=EGO_FRAME,
            pose=t["geometry_msgs/msg/PoseWithCovariance"](pose=pose, covariance=np.zeros(36)),
            twist=t["geometry_msgs/msg/TwistWithCovariance"](twist=twist, covariance=np.zeros(36)))

    def close(self) -> None:
        self.writer.close()
