"""Play rosbag2 files on ROS 2 with /clock (`vla-driving eval replay BAG... --live`).

Every message is published on its recorded topic, as the recorded serialised CDR bytes (no
re-encoding), and /clock follows the bag's time, paced at `rate` x real time, so nodes running
with use_sim_time see the bag as they would see the car. Reading uses `rosbags` (sqlite3, MCAP).
`collect_planner_outputs` files the planner's trajectory and decision for the evaluation.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from nav_msgs.msg import Path as PathMsg
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from std_msgs.msg import String

from vla_driving.constants import TOPIC_CLOCK
from vla_driving.ros.conversions import ns_to_stamp, stamp_to_ns
from vla_driving.ros.messages import MessageTypeError, import_message
from vla_driving.ros.session import ros_context

log = logging.getLogger(__name__)
NODE_NAME = "vla_bag_player"
QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                 durability=DurabilityPolicy.VOLATILE)
DISCOVERY_WAIT_S = 1.0    # let subscribers match before the first message


class BagPlayer:
    """Publishes the messages of bags in time order on one node; `play()` blocks until done."""

    def __init__(self, node: Node, rate: float = 1.0):
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.node, self.rate = node, rate
        self.clock = node.create_publisher(Clock, TOPIC_CLOCK, QOS)
        self.publishers: dict[str, object] = {}
        self.published = 0
        self.skipped_types: set[str] = set()

    def _publisher(self, topic: str, msgtype: str):
        if topic not in self.publishers:
            try:
                self.publishers[topic] = self.node.create_publisher(import_message(msgtype),
                                                                    topic, QOS)
            except MessageTypeError as exc:
                log.warning("not publishing %s: %s", topic, exc)
                self.publishers[topic] = None
                self.skipped_types.add(msgtype)
        return self.publishers[topic]

    def play(self, path: str | Path) -> int:
        from rosbags.rosbag2 import Reader
        with Reader(Path(path)) as reader:
            for conn in reader.connections:
                self._publisher(conn.topic, conn.msgtype)
            time.sleep(DISCOVERY_WAIT_S)
            start_wall, start_bag = time.monotonic(), None
            for conn, stamp, raw in reader.messages():
                start_bag = stamp if start_bag is None else start_bag
                delay = start_wall + (stamp - start_bag) / 1e9 / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.clock.publish(Clock(clock=ns_to_stamp(stamp)))
                publisher = self.publishers.get(conn.topic)
                if publisher is not None:
                    publisher.publish(bytes(raw))
                    self.published += 1
        return self.published


def play_bags_live(bags: list[str], rate: float = 1.0) -> int:
    """Play `bags` one after the other; returns a process exit code."""
    with ros_context() as context:
        node = Node(NODE_NAME, context=context)
        try:
            player = BagPlayer(node, rate)
            for bag in bags:
                count = player.play(bag)
                log.info("%s: published %d messages so far", bag, count)
            return 0
        except (OSError, ValueError) as exc:
            log.error("vla-driving eval replay --live: %s", exc)
            return 2
        finally:
            node.destroy_node()




def collect_planner_outputs(node: Node, planner_cfg, on_path: Callable[[int, list], None],
                            on_decision: Callable[[str], None]) -> None:
    """Subscriptions that hand the planner's trajectory (stamp, [[x, y], ...]) and decision JSON
    to plain callbacks."""
    def path(msg) -> None:
        on_path(stamp_to_ns(msg.header.stamp),
                [[p.pose.position.x, p.pose.position.y] for p in msg.poses])
    node.create_subscription(PathMsg, planner_cfg.trajectory_topic, path, QOS)
    node.create_subscription(String, planner_cfg.decision_topic,
                             lambda msg: on_decision(msg.data), QOS)
