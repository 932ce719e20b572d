"""A small simulator-like rosbag2 written with `rosbags` for the replay tests (no simulator
needed): two JPEG cameras and odometry at 10 Hz, an instruction, and ground-truth agents JSON
in the layout `vla_driving.sim.ground_truth` writes."""

import io
import json
import math

import numpy as np
from PIL import Image
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from vla_driving.data import references as refs
from vla_driving.data.topics import (CARLA_PREFIX, TOPIC_REF_DESCRIPTION, TOPIC_REF_JUSTIFICATION,
                                     TOPIC_REF_QA, TOPIC_SIM_AGENTS, TOPIC_SIM_EPISODE,
                                     camera_topic)

RATE_HZ = 10
T0_NS = 1_000_000_000
CAMERAS = ("bev_near", "bev_far")


def _jpeg(step: int, camera: str) -> bytes:
    img = np.full((48, 48, 3), 80 + (step * 7) % 100, np.uint8)
    img[:, 20 + (step % 8): 24 + (step % 8)] = 255 if camera == "bev_near" else 128
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


REFERENCE_DESCRIPTION = "ego vehicle at 8.0 m/s; no scene model (baseline)"
REFERENCE_QA = (("How fast is the ego vehicle?", "8 m/s"), ("Which lane?", "the left lane"))


def reference_justification(step: int) -> str:
    return f"keep going, frame {step}"


def write_bag(path, seconds: float = 6.0, storage: str = "sqlite3", speed: float = 8.0,
              references: bool = False):
    """`references`: the /sim/reference/... topics on every frame but the last 3 s (as the
    generator writes them), with the texts above."""
    ts = get_typestore(Stores.ROS2_HUMBLE)
    T = ts.types
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3

    def header(stamp, frame):
        return T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](
            sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id=frame)

    with Writer(path, version=9, storage_plugin=plugin) as w:
        conns = {camera_topic(c): w.add_connection(camera_topic(c), "sensor_msgs/msg/CompressedImage",
                                                   typestore=ts) for c in CAMERAS}
        odom_topic, instr_topic = f"{CARLA_PREFIX}/odometry", f"{CARLA_PREFIX}/instruction"
        conns[odom_topic] = w.add_connection(odom_topic, "nav_msgs/msg/Odometry", typestore=ts)
        strings = (instr_topic, TOPIC_SIM_AGENTS, TOPIC_SIM_EPISODE) + (
            (TOPIC_REF_DESCRIPTION, TOPIC_REF_JUSTIFICATION, TOPIC_REF_QA) if references else ())
        for topic in strings:
            conns[topic] = w.add_connection(topic, "std_msgs/msg/String", typestore=ts)

        def put(topic, stamp, msg, msgtype):
            w.write(conns[topic], stamp, ts.serialize_cdr(msg, msgtype))

        put(TOPIC_SIM_EPISODE, T0_NS, T["std_msgs/msg/String"](data=json.dumps({"seed": 0})),
            "std_msgs/msg/String")
        for step in range(int(seconds * RATE_HZ)):
            t = step / RATE_HZ
            stamp = T0_NS + step * 10**9 // RATE_HZ
            yaw = 0.02 * t
            x, y = speed * t * math.cos(yaw / 2), speed * t * math.sin(yaw / 2)
            pose = T["geometry_msgs/msg/PoseWithCovariance"](pose=T["geometry_msgs/msg/Pose"](
                position=T["geometry_msgs/msg/Point"](x=x, y=y, z=0.0),
                orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=math.sin(yaw / 2),
                                                              w=math.cos(yaw / 2))),
                covariance=np.zeros(36))
            twist = T["geometry_msgs/msg/TwistWithCovariance"](twist=T["geometry_msgs/msg/Twist"](
                linear=T["geometry_msgs/msg/Vector3"](x=speed, y=0.0, z=0.0),
                angular=T["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.02)), covariance=np.zeros(36))
            put(odom_topic, stamp, T["nav_msgs/msg/Odometry"](
                header=header(stamp, "map"), child_frame_id="ego", pose=pose, twist=twist),
                "nav_msgs/msg/Odometry")
            if step % 20 == 0:
                put(instr_topic, stamp, T["std_msgs/msg/String"](data="keep lane"),
                    "std_msgs/msg/String")
            for c in CAMERAS:
                put(camera_topic(c), stamp, T["sensor_msgs/msg/CompressedImage"](
                    header=header(stamp, c), format="jpeg",
                    data=np.frombuffer(_jpeg(step, c), np.uint8)), "sensor_msgs/msg/CompressedImage")
            agents = {"stamp_ns": stamp, "agents": [
                {"id": 7, "category": "car", "x": 30.0 + 5.0 * t, "y": 0.3, "yaw": 0.0,
                 "length": 5.0, "width": 2.0}]}
            put(TOPIC_SIM_AGENTS, stamp, T["std_msgs/msg/String"](data=json.dumps(agents)),
                "std_msgs/msg/String")
            if references and t < seconds - 3.0:
                for topic, data in ((TOPIC_REF_DESCRIPTION,
                                     refs.text_json(stamp, REFERENCE_DESCRIPTION)),
                                    (TOPIC_REF_JUSTIFICATION,
                                     refs.text_json(stamp, reference_justification(step))),
                                    (TOPIC_REF_QA, refs.qa_json(stamp, REFERENCE_QA))):
                    put(topic, stamp, T["std_msgs/msg/String"](data=data), "std_msgs/msg/String")
    return path
