"""A synthetic multi-camera + odometry publisher for tests, benchmarks and a first bringup.

All cameras of one tick share one stamp (the publisher's ROS clock), like hardware-triggered
cameras. Images are precomputed (a moving bar over a per-camera gradient) and messages are
built once, so a tick only restamps and publishes. Run it as a process:

    python -m vla_driving.ros.camera_stream --cameras front left --rate 30 --duration 5

It prints one JSON line with what it published when it stops (tests and `bench ingest` read it).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from dataclasses import dataclass

import numpy as np
import rclpy
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

from vla_driving.config_cli import add_config_arguments, config_from_args
from vla_driving.configuration import Config, param
from vla_driving.constants import NS_PER_S, TOPIC_INSTRUCTION, TOPIC_ODOMETRY
from vla_driving.sensors.config import CAMERA_PLACEHOLDER, DEFAULT_CAMERA_TOPIC, DEFAULT_CAMERAS
from vla_driving.types import EgoState
from vla_driving.ros.conversions import compressed_msg, image_msg, ns_to_stamp, odometry_msg
from vla_driving.ros.parameters import config_overrides, declare_config
from vla_driving.ros.qos import COMMAND_QOS, SENSOR_QOS

NODE_NAME = "camera_stream"
DISTINCT_FRAMES = 8
SUMMARY_STAMPS = 1000         # the summary lists at most this many (the last) tick stamps
BAR_WIDTH_FRACTION = 8
COMPRESSED_FORMATS = ("jpeg", "png")


@dataclass
class CameraStreamConfig(Config):
    """What to publish; the topic fields mirror `IngestConfig` so one YAML section serves both."""

    cameras: list[str] = param(DEFAULT_CAMERAS, "camera names", min_len=1)
    camera_topic: str = param(DEFAULT_CAMERA_TOPIC, "image topic template with {camera}")
    encoding: str = param("rgb8", "raw encoding, or jpeg/png for CompressedImage on "
                                  "camera_topic + '/compressed'",
                          choices=("rgb8", "bgr8", "rgba8", "bgra8", "mono8") + COMPRESSED_FORMATS)
    width: int = param(640, "image width (px)", low=1, high=8192)
    height: int = param(480, "image height (px)", low=1, high=8192)
    rate_hz: float = param(30.0, "frames per second per camera", low=0.1, high=1000.0)
    odometry_topic: str = param(TOPIC_ODOMETRY, "nav_msgs/Odometry topic")
    speed_mps: float = param(8.0, "constant forward speed in the odometry", low=0.0, high=100.0)
    instruction_topic: str = param(TOPIC_INSTRUCTION, "std_msgs/String topic")
    instruction: str = param("", "instruction published once per second (empty: none)")
    duration_s: float = param(0.0, "stop after this long (0: run until shut down)",
                              low=0.0, high=86400.0)
    wait_for_subscribers: bool = param(False, "start counting only once every camera topic "
                                              "has a subscriber")

    @property
    def compressed(self) -> bool:
        return self.encoding in COMPRESSED_FORMATS

    def topic_for(self, camera: str) -> str:
        topic = self.camera_topic.replace(CAMERA_PLACEHOLDER, camera)
        return topic + "/compressed" if self.compressed else topic


def synthetic_frames(cfg: CameraStreamConfig, index: int) -> list[np.ndarray]:
    """DISTINCT_FRAMES RGB images for camera `index`: a gradient with a bar moving across."""
    x = np.linspace(0, 255, cfg.width, dtype=np.float32)
    y = np.linspace(0, 255, cfg.height, dtype=np.float32)[:, None]
    base = np.stack([np.broadcast_to(x, (cfg.height, cfg.width)),
                     np.broadcast_to(y, (cfg.height, cfg.width)),
                     np.full((cfg.height, cfg.width), (index * 40) % 256, np.float32)], axis=2)
    frames = []
    bar = max(1, cfg.width // BAR_WIDTH_FRACTION)
    for k in range(DISTINCT_FRAMES):
        image = base.astype(np.uint8)
        left = (k * cfg.width) // DISTINCT_FRAMES
        image[:, left:left + bar] = 255
        frames.append(image)
    return frames


def _to_msg(cfg: CameraStreamConfig, image: np.ndarray, camera: str):
    if cfg.compressed:
        from PIL import Image as PilImage
        buffer = io.BytesIO()
        PilImage.fromarray(image).save(buffer, format=cfg.encoding.upper())
        return compressed_msg(buffer.getvalue(), 0, camera, cfg.encoding)
    pixels = {"rgb8": image, "bgr8": image[:, :, ::-1], "mono8": image[:, :, 0],
              "rgba8": np.dstack([image, np.full(image.shape[:2], 255, np.uint8)]),
              "bgra8": np.dstack([image[:, :, ::-1], np.full(image.shape[:2], 255, np.uint8)])}
    return image_msg(pixels[cfg.encoding], 0, camera, cfg.encoding)


class CameraStream(Node):
    """Publishes every camera and the odometry at `rate_hz` on the node's ROS clock."""

    def __init__(self, config: CameraStreamConfig | None = None, **node_kwargs):
        if config is not None:
            node_kwargs.setdefault("parameter_overrides", config_overrides(config))
        super().__init__(node_kwargs.pop("node_name", NODE_NAME), **node_kwargs)
        self.config: CameraStreamConfig = declare_config(self, CameraStreamConfig)
        cfg = self.config
        kind = CompressedImage if cfg.compressed else Image
        self.messages = {c: [_to_msg(cfg, im, c) for im in synthetic_frames(cfg, i)]
                         for i, c in enumerate(cfg.cameras)}
        self.image_pubs = {c: self.create_publisher(kind, cfg.topic_for(c), SENSOR_QOS)
                           for c in cfg.cameras}
        self.odom_pub = self.create_publisher(Odometry, cfg.odometry_topic, SENSOR_QOS)
        self.instruction_pub = self.create_publisher(String, cfg.instruction_topic, COMMAND_QOS)
        self.published = {c: 0 for c in cfg.cameras}
        self.stamps: list[int] = []
        self.done = False
        self._start_ns: int | None = None
        self.create_timer(1.0 / cfg.rate_hz, self._tick)

    def _ready(self) -> bool:
        return not self.config.wait_for_subscribers or all(
            pub.get_subscription_count() > 0 for pub in self.image_pubs.values())

    def _tick(self) -> None:
        if self.done or not self._ready():
            return
        now = self.get_clock().now().nanoseconds
        if self._start_ns is None:
            self._start_ns = now
        elapsed_s = (now - self._start_ns) / NS_PER_S
        if self.config.duration_s and elapsed_s >= self.config.duration_s:
            self.done = True
            return
        tick = len(self.stamps)
        stamp = ns_to_stamp(now)
        for camera, pub in self.image_pubs.items():
            msg = self.messages[camera][tick % DISTINCT_FRAMES]
            msg.header.stamp = stamp
            pub.publish(msg)
            self.published[camera] += 1
        ego = EgoState(stamp_ns=now, x=self.config.speed_mps * elapsed_s,
                       speed=self.config.speed_mps)
        self.odom_pub.publish(odometry_msg(ego))
        if self.config.instruction and tick % max(1, round(self.config.rate_hz)) == 0:
            self.instruction_pub.publish(String(data=self.config.instruction))
        self.stamps.append(now)

    def summary(self) -> dict:
        return {"published": dict(self.published), "ticks": len(self.stamps),
                "first_stamp_ns": self.stamps[0] if self.stamps else None,
                "last_stamp_ns": self.stamps[-1] if self.stamps else None,
                "stamps_ns": self.stamps[-SUMMARY_STAMPS:]}


def _parse(argv: list[str]) -> tuple[CameraStreamConfig, list[str]]:
    parser = argparse.ArgumentParser(prog="camera_stream", description=__doc__.splitlines()[0])
    add_config_arguments(parser, CameraStreamConfig,
                         rename={"rate_hz": "rate", "duration_s": "duration"})
    args, ros_args = parser.parse_known_args(argv)
    return config_from_args(CameraStreamConfig, args), ros_args


def main(argv: list[str] | None = None) -> int:
    cfg, ros_args = _parse(sys.argv[1:] if argv is None else argv)
    rclpy.init(args=[sys.argv[0], *ros_args])
    node = CameraStream(cfg)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        while rclpy.ok() and not node.done:
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        print(json.dumps(node.summary()), flush=True)
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
