"""`--live`: the bag's messages arrive on their topics as ROS messages, with /clock in bag time."""

import os
import threading

import pytest

from eval_bag_fixtures import T0_NS, write_bag

pytestmark = pytest.mark.ros
PRIVATE_DOMAIN_BASE = 160


def test_bag_is_published_with_clock(tmp_path):
    import rclpy
    from nav_msgs.msg import Odometry
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rosgraph_msgs.msg import Clock

    from vla_driving.ros.bag_player import QOS, BagPlayer

    bag = write_bag(tmp_path / "b", seconds=1.0)
    context = rclpy.Context()
    # a domain of its own: other ROS tests on this machine publish odometry and /clock too
    rclpy.init(context=context, domain_id=PRIVATE_DOMAIN_BASE + os.getpid() % 60)
    probe = Node("probe", context=context)
    player_node = Node("player", context=context)
    clocks, odoms = [], []
    probe.create_subscription(Clock, "/clock", clocks.append, QOS)
    probe.create_subscription(Odometry, "/carla/ego_vehicle/odometry", odoms.append, QOS)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(probe)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        published = BagPlayer(player_node, rate=5.0).play(bag)
        assert published == 10 * 4 + 2   # 10 x (2 images, odometry, agents) + episode + instruction
        import time
        deadline = time.monotonic() + 5.0
        while len(odoms) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(odoms) == 10
        assert odoms[0].twist.twist.linear.x == pytest.approx(8.0)
        stamps = [c.clock.sec * 10**9 + c.clock.nanosec for c in clocks]
        assert stamps[0] == T0_NS and stamps == sorted(stamps)
    finally:
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=2.0)
        probe.destroy_node()
        player_node.destroy_node()
        context.try_shutdown()
