"""Play rosbag2 files on ROS 2 with /clock (`vla-driving eval replay BAG... --live`), and
evaluate the real planner node on them (`evaluate_live`).

Every message is published on its recorded topic, as the recorded serialised CDR bytes (no
re-encoding), and /clock follows the bag's time, paced at `rate` x real time, so nodes running
with use_sim_time see the bag as they would see the car. Reading uses `rosbags` (sqlite3, MCAP).
Owned by the evaluation.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import rclpy
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

from vla_driving.constants import TOPIC_CLOCK
from vla_driving.evaluation.live_eval import LiveOutputs

from vla_driving.ros import ensure_local_dds
from vla_driving.ros.stack import Stack
from vla_driving.ros.conversions import ns_to_stamp, stamp_to_ns
from vla_driving.ros.messages import MessageTypeError, import_message

log = logging.getLogger(__name__)
NODE_NAME = "vla_bag_player"
QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                 durability=DurabilityPolicy.VOLATILE)
DISCOVERY_WAIT_S = 1.0    # let subscribers match before the first message
DRAIN_S = 2.0             # wall time for the last plans to arrive after a bag ends


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
    ensure_local_dds()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node(NODE_NAME, context=context)
    try:
        player = BagPlayer(node, rate)
        for bag in bags:
            count = player.play(bag)
            print(f"{bag}: published {count} messages so far")
        return 0
    except (OSError, ValueError) as exc:
        print(f"vla-driving eval replay --live: {exc}")
        return 2
    finally:
        node.destroy_node()
        context.try_shutdown()


def _collect(node: Node, planner_cfg, outputs: dict) -> None:
    """Subscriptions that file the planner's trajectory and decision into `outputs["now"]`."""
    from nav_msgs.msg import Path as PathMsg
    from std_msgs.msg import String

    def on_path(msg) -> None:
        xy = [[p.pose.position.x, p.pose.position.y] for p in msg.poses]
        outputs["now"].on_path(stamp_to_ns(msg.header.stamp), xy)
    node.create_subscription(PathMsg, planner_cfg.trajectory_topic, on_path, QOS)
    node.create_subscription(String, planner_cfg.decision_topic,
                             lambda msg: outputs["now"].on_decision(msg.data), QOS)


def evaluate_live(bags: list[str], profile: str, planner: dict, rate: float = 1.0
                  ) -> dict[str, LiveOutputs]:
    """Start the profile's nodes in-process (on /clock), play each bag, collect the planner's
    outputs per bag. Raises vla_driving.configuration.ConfigError when a node cannot start."""
    ensure_local_dds()
    context = rclpy.Context()
    rclpy.init(context=context)
    stack = None
    try:
        stack = Stack(profile, context=context, extra_overrides={"vla_planner": planner}).build()
        collector = Node("vla_eval_collector", context=context)
        outputs: dict = {"now": LiveOutputs()}
        _collect(collector, stack.nodes["vla_planner"].cfg, outputs)
        stack.executor.add_node(collector)
        stack.start()
        player = BagPlayer(Node(NODE_NAME, context=context), rate)
        results = {}
        for bag in bags:
            outputs["now"] = results[bag] = LiveOutputs()
            player.play(bag)
            time.sleep(DRAIN_S)
        return results
    finally:
        if stack is not None:
            stack.destroy()
        context.try_shutdown()
