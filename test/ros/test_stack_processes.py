"""Across processes: the planner runs as its own process (`python -m vla_driving.ros.planner_node`
with the sim profile), the simulator bridge and the controller in this one. Plans cross the
process boundary stamped in sim time; killing the planner process (SIGKILL) makes the controller
stop the car within the watchdog bound. The planner uses the constant-velocity baseline."""

import os
import signal
import subprocess
import sys

import pytest
from stack_test_helpers import ROOT, SIM_YAML, ros_context, wait_until  # noqa: F401

pytestmark = pytest.mark.ros
NS = 10**9


def start_planner_process():
    cmd = [sys.executable, "-m", "vla_driving.ros.planner_node", "--ros-args",
           "--params-file", str(SIM_YAML), "-p", "policy:=constant_velocity",
           "-p", "use_sim_time:=true"]
    return subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_planner_in_another_process_and_killing_it_stops_the_car(ros_context):
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import TwistStamped
    from nav_msgs.msg import Path as PathMsg
    from rclpy.node import Node

    from vla_driving.control.config import ControllerConfig
    from vla_driving.ros.stack import Stack
    from vla_driving.ros.conversions import stamp_to_ns

    planner = start_planner_process()
    stack = Stack(SIM_YAML, context=ros_context, nodes=["sim_bridge", "trajectory_controller"],
                  extra_overrides={"sim_bridge": {"plan_wait_timeout_s": 1.0}})
    try:
        probe = Node("probe", context=ros_context)
        assert wait_until(lambda: "vla_planner" in probe.get_node_names(), 15.0), \
            "planner process did not come up"
        paths, controls, diagnostics = [], [], []
        stack.build()
        bridge = stack.nodes["sim_bridge"].bridge
        probe.create_subscription(PathMsg, "/vla/trajectory",
                                  lambda m: paths.append((bridge.now_ns, m)), 10)
        probe.create_subscription(TwistStamped, "/carla/ego_vehicle/twist_cmd", controls.append, 50)
        probe.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 50)
        stack.executor.add_node(probe)
        stack.start()
        assert wait_until(lambda: len(paths) >= 15, 15.0), f"only {len(paths)} plans arrived"
        for received_ns, msg in paths:
            assert bridge.offset_ns <= stamp_to_ns(msg.header.stamp) <= received_ns
        assert stack.nodes["trajectory_controller"].last_command.mode == "tracking"

        planner.send_signal(signal.SIGKILL)
        planner.wait(timeout=5.0)
        killed_ns = bridge.now_ns
        last_plan_ns = paths[-1][0]
        assert wait_until(lambda: bridge.now_ns > killed_ns + NS, 10.0)
        cfg = ControllerConfig()
        # A loaded machine can delay a plan past the timeout before the kill too (the controller
        # then stops and resumes on the next plan); the kill's timeout is the first after the last plan.
        stops = [stamp_to_ns(d.header.stamp) for d in diagnostics for s in d.status
                 if s.name.startswith("trajectory_controller") and "plan timeout" in s.message
                 and stamp_to_ns(d.header.stamp) > last_plan_ns]
        assert stops, "the controller never reported the plan timeout after the kill"
        bound_ns = int((cfg.watchdog.plan_timeout_s + 2.0 / cfg.rate_hz) * NS)
        assert stops[0] - last_plan_ns <= bound_ns
        after = [m.twist.linear.x for m in controls if stamp_to_ns(m.header.stamp) >= stops[0]]
        assert len(after) > 10 and all(b <= a + 1e-6 for a, b in zip(after, after[1:]))
        assert after[-1] < after[0], "the car is not braking"
        last = stack.nodes["trajectory_controller"].last_command
        assert last.mode == "stopping" and "plan timeout" in last.reason
    finally:
        if planner.poll() is None:
            planner.kill()
            planner.wait(timeout=5.0)
        stack.destroy()
