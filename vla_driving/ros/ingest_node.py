"""`camera_ingest`: subscribes to the cameras, odometry and instruction and feeds an `Ingest`.

A thin adapter: messages become plain fields (`conversions`), the ROS-free `Ingest` decodes
(zero-copy for raw images), validates and synchronises, and this node publishes /diagnostics and,
with `synced_topic` set, every synchronised set as decoded images that all carry the set's stamp
(so another node can take whole sets without syncing again).
Every time comes from the node's ROS clock, so it is right under `use_sim_time` and bag replay.
The callbacks only convert and hand over; they never block on other cameras.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import String

from vla_driving.constants import NS_PER_S, TOPIC_DIAGNOSTICS
from vla_driving.sensors.config import CAMERA_PLACEHOLDER, IngestConfig
from vla_driving.sensors.diagnostics import ingest_statuses
from vla_driving.sensors.ingest import Ingest, Rejection
from vla_driving.types import SyncedSet
from vla_driving.ros.conversions import (camera_info_fields, compressed_fields, image_fields,
                                         image_msg, odometry_fields, stamp_to_ns)
from vla_driving.ros.parameters import declare_config
from vla_driving.ros.spin import spin_node
from vla_driving.ros.qos import COMMAND_QOS, DIAGNOSTICS_QOS, SENSOR_QOS, sensor_qos

NODE_NAME = "camera_ingest"
PROCESSING_WINDOW = 4096
POLL_FRACTION = 0.5           # poll pending sets at half the sync wait
MIN_POLL_PERIOD_S = 0.005
LOG_EVERY_S = 5.0             # at most one log line per source and reason in this time


class IngestNode(Node):
    """Plain node around `Ingest`; `on_set` (optional) sees every synchronised set."""

    def __init__(self, *, node_name: str = NODE_NAME, on_set: Callable[[SyncedSet], None] | None
                 = None, **node_kwargs):
        super().__init__(node_name, **node_kwargs)
        self.config: IngestConfig = declare_config(self, IngestConfig)
        self.ingest = Ingest(self.config, on_set=on_set)
        self.synced_pubs = {c: self.create_publisher(Image, self.config.synced_topic.replace(
            CAMERA_PLACEHOLDER, c), SENSOR_QOS) for c in self.config.cameras} \
            if self.config.synced_topic else {}
        if self.synced_pubs:
            self.ingest.add_set_listener(self._publish_set)
        # decode+sync wall time of each image callback (s): processing cost, not message age
        self.processing_s: deque[float] = deque(maxlen=PROCESSING_WINDOW)
        self._logged: dict[tuple[str, str], int] = {}
        self._last_stats: dict | None = None
        self._last_diag_ns = self._now_ns()
        kind = CompressedImage if self.config.transport == "compressed" else Image
        to_fields = compressed_fields if kind is CompressedImage else image_fields
        for camera in self.config.cameras:
            self.create_subscription(kind, self.config.topic_for(camera),
                                     self._image_callback(camera, to_fields),
                                     sensor_qos(self.config.queue_depth))
        for camera in self.config.camera_info_cameras:
            self.create_subscription(CameraInfo, self.config.camera_info_topic_for(camera),
                                     self._camera_info_callback(camera), SENSOR_QOS)
        self.create_subscription(Odometry, self.config.odometry_topic, self._on_odometry,
                                 SENSOR_QOS)
        self.create_subscription(String, self.config.instruction_topic, self._on_instruction,
                                 COMMAND_QOS)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, TOPIC_DIAGNOSTICS,
                                                     DIAGNOSTICS_QOS)
        poll_s = max(MIN_POLL_PERIOD_S, POLL_FRACTION * self.config.max_wait_s)
        self.create_timer(poll_s, self._poll)
        self.create_timer(self.config.diagnostics_period_s, self._publish_diagnostics)
        self.get_logger().info(
            f"ingesting {len(self.config.cameras)} camera(s) "
            f"{[self.config.topic_for(c) for c in self.config.cameras]}, anchor "
            f"{self.config.anchor}, odometry {self.config.odometry_topic}")

    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _image_callback(self, camera: str, to_fields):
        def callback(msg) -> None:
            start = time.perf_counter()
            rejection = self.ingest.on_image(camera, to_fields(msg), stamp_to_ns(msg.header.stamp),
                                             self._now_ns())
            self.processing_s.append(time.perf_counter() - start)
            self._log(rejection)
        return callback

    def _camera_info_callback(self, camera: str):
        return lambda msg: self.ingest.on_camera_info(camera, camera_info_fields(msg))

    def _on_odometry(self, msg: Odometry) -> None:
        self._log(self.ingest.on_odometry(odometry_fields(msg), self._now_ns()))

    def _on_instruction(self, msg: String) -> None:
        self._log(self.ingest.on_instruction(msg.data, self._now_ns()))

    def _poll(self) -> None:
        self.ingest.poll(self._now_ns())

    def _publish_set(self, synced: SyncedSet) -> None:
        for camera, frame in synced.frames.items():
            encoding = "rgb8" if frame.image.ndim == 3 else "mono8"
            self.synced_pubs[camera].publish(image_msg(frame.image, synced.stamp_ns, camera,
                                                       encoding))

    def _log(self, rejection: Rejection | None) -> None:
        """Warn about a rejection, at most once per source and reason every LOG_EVERY_S."""
        if rejection is None:
            return
        key = (rejection.source, rejection.reason)
        now = self._now_ns()
        last = self._logged.get(key)
        if last is None or not 0 <= now - last < LOG_EVERY_S * NS_PER_S:
            self._logged[key] = now
            self.get_logger().warning(f"rejected input from {rejection}")

    def _publish_diagnostics(self) -> None:
        now = self._now_ns()
        period_s = max((now - self._last_diag_ns) / NS_PER_S, 1e-9)
        stats = self.ingest.stats()
        statuses = ingest_statuses(self.get_name(), stats, self._last_stats, period_s,
                                   self.config.cameras, self.config.anchor)
        self._last_stats, self._last_diag_ns = stats, now
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        for status in statuses:
            msg.status.append(DiagnosticStatus(
                level=bytes([status.level]), name=status.name, message=status.message,
                hardware_id=self.get_fully_qualified_name(),
                values=[KeyValue(key=k, value=v) for k, v in status.values.items()]))
        self.diagnostics_pub.publish(msg)


def main(args: list[str] | None = None) -> int:
    spin_node(IngestNode, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
