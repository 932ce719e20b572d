"""The sim profile in one process (real rclpy, real simulator): trajectories and controls arrive
stamped in sim time, and the car drives. The planner runs the constant-velocity baseline (a real
policy) until a committed tiny bundle exists."""

import time

import pytest
from stack_test_helpers import BASELINE, SIM_YAML, ros_context  # noqa: F401

pytestmark = pytest.mark.ros


def test_sim_stack_drives_with_stamped_outputs(ros_context):
    from geometry_msgs.msg import TwistStamped
    from nav_msgs.msg import Path as PathMsg
    from rclpy.node import Node

    from vla_driving.ros.stack import Stack
    from vla_driving.ros.conversions import stamp_to_ns

    stack = Stack(SIM_YAML, context=ros_context, extra_overrides=BASELINE).build()
    probe = Node("probe", context=ros_context)
    paths, controls = [], []
    probe.create_subscription(PathMsg, "/vla/trajectory", paths.append, 10)
    probe.create_subscription(TwistStamped, "/carla/ego_vehicle/twist_cmd", controls.append, 10)
    stack.executor.add_node(probe)
    stack.start()
    try:
        bridge = stack.nodes["sim_bridge"].bridge
        start_x = bridge.sim.ego_state().x
        deadline = time.monotonic() + 12.0
        while time.monotonic() < deadline and bridge.now_ns < bridge.offset_ns + 3 * 10**9:
            time.sleep(0.05)
        sim_now = bridge.now_ns
        assert sim_now >= bridge.offset_ns + 3 * 10**9, "sim time did not advance 3 s"
        assert paths and controls
        # sim-time stamps: within the simulated window, not wall-clock time
        for msg in paths:
            stamp = stamp_to_ns(msg.header.stamp)
            assert bridge.offset_ns <= stamp <= sim_now
            poses = [stamp_to_ns(p.header.stamp) - stamp for p in msg.poses]
            assert poses == [int(0.5e9 * (i + 1)) for i in range(6)]
        stamps = [stamp_to_ns(m.header.stamp) for m in controls]
        assert stamps == sorted(stamps) and stamps[-1] <= sim_now
        steps = {b - a for a, b in zip(stamps, stamps[1:])}
        assert steps <= {0, 50_000_000}, f"controller ticks not in lockstep: {sorted(steps)[:5]}"
        assert bridge.control_timeouts == 0
        assert bridge.sim.ego_state().x > start_x + 20.0, "the car did not drive"
        assert max(m.twist.linear.x for m in controls) > 5.0
    finally:
        stack.destroy()
        probe.destroy_node()
