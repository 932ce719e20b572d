"""Every control output over real DDS: four controllers (twist, ackermann, carla, autoware) track
one plan and another process subscribes with the real message types (built from interfaces/);
the simulator bridge consumes each type and the closed loop drives with each; a missing message
package fails with the type and the package to install."""

import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from stack_test_helpers import ROOT, require_message_package, ros_context, wait_until  # noqa: F401

pytestmark = pytest.mark.ros
NS = 10**9
PROBE = Path(__file__).with_name("message_probe.py")
OUTPUTS = ("twist", "ackermann", "carla", "autoware")
PLAN_SPEED = 10.0


def controller(ros_context, output: str):
    from rclpy.parameter import Parameter

    from vla_driving.ros.controller_node import ControllerNode
    params = {"output": output, "control_topic": f"/test_outputs/{output}"}
    return ControllerNode(context=ros_context, namespace=f"/{output}",
                          parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])


def start_probe(min_count: int):
    from vla_driving.control.adapters import adapter_for
    specs = [f"/test_outputs/{o}={adapter_for(o).msg_type}" for o in OUTPUTS]
    probe = subprocess.Popen([sys.executable, str(PROBE), "20", str(min_count), *specs], cwd=ROOT,
                             env=dict(os.environ), stdout=subprocess.PIPE, text=True)
    assert probe.stdout.readline().strip() == "ready"
    return probe


def feed(feeder, odom, path, stop: threading.Event) -> None:
    """Odometry at 8 m/s along x and a straight 10 m/s plan, on wall time, every 50 ms."""
    from geometry_msgs.msg import PoseStamped
    from nav_msgs.msg import Path as PathMsg

    from vla_driving.ros.conversions import ns_to_stamp, odometry_msg
    from vla_driving.types import EgoState
    while not stop.is_set():
        now = feeder.get_clock().now().nanoseconds
        odom.publish(odometry_msg(EgoState(now, x=now / NS % 1000 * 8.0, speed=8.0)))
        msg = PathMsg()
        msg.header.stamp, msg.header.frame_id = ns_to_stamp(now), "base_link"
        for k in range(1, 7):
            pose = PoseStamped()
            pose.pose.position.x = PLAN_SPEED * 0.5 * k
            msg.poses.append(pose)
        path.publish(msg)
        time.sleep(0.05)


def test_every_output_type_reaches_another_process_with_its_real_type(ros_context):
    from nav_msgs.msg import Odometry, Path as PathMsg
    from rclpy.node import Node

    from vla_driving.ros.spin import multithreaded_executor
    for package in ("ackermann_msgs", "carla_msgs", "autoware_control_msgs"):
        require_message_package(package)
    probe = start_probe(min_count=20)
    nodes = {o: controller(ros_context, o) for o in OUTPUTS}
    feeder = Node("feeder", context=ros_context)
    odom = feeder.create_publisher(Odometry, "/odom", 10)
    path = feeder.create_publisher(PathMsg, "/vla/trajectory", 10)
    executor = multithreaded_executor(num_threads=2, context=ros_context)
    for node in [*nodes.values(), feeder]:
        executor.add_node(node)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()
    stop = threading.Event()
    feeding = threading.Thread(target=feed, args=(feeder, odom, path, stop), daemon=True)
    try:
        assert wait_until(lambda: odom.get_subscription_count() >= 4, 10.0), "discovery"
        feeding.start()
        out, _ = probe.communicate(timeout=30)
    finally:
        stop.set()
        if probe.poll() is None:
            probe.kill()
        executor.shutdown()
        spin.join(timeout=5)
        feeding.join(timeout=5)
    seen = json.loads(out.strip().splitlines()[-1])
    counts = {topic.rsplit("/", 1)[1]: entry["count"] for topic, entry in seen.items()}
    print("messages received per type:", counts)
    assert min(counts.values()) >= 20, counts
    assert all(n.last_command.mode == "tracking" for n in nodes.values()), \
        {o: (n.last_command.mode, n.last_command.reason) for o, n in nodes.items()}
    last = {topic.rsplit("/", 1)[1]: entry["last"] for topic, entry in seen.items()}
    assert last["twist"]["twist"]["linear"]["x"] == pytest.approx(PLAN_SPEED, abs=0.5)
    assert last["ackermann"]["drive"]["speed"] == pytest.approx(PLAN_SPEED, abs=0.5)
    assert last["ackermann"]["header"]["frame_id"] == "base_link"
    assert last["autoware"]["longitudinal"]["velocity"] == pytest.approx(PLAN_SPEED, abs=0.5)
    assert last["autoware"]["stamp"] == last["autoware"]["lateral"]["stamp"]
    assert last["autoware"]["stamp"]["sec"] > 0
    carla = last["carla"]
    assert 0.0 < carla["throttle"] <= 1.0 and carla["brake"] == 0.0  # 8 m/s below the plan's 10
    assert abs(carla["steer"]) <= 1.0 and carla["gear"] == 1


def test_a_missing_output_package_names_the_type_and_the_package(ros_context, monkeypatch):
    from vla_driving.control import adapters
    from vla_driving.ros.messages import MessageTypeError
    monkeypatch.setitem(adapters.ADAPTERS, "autoware", adapters.OutputAdapter(
        "autoware", "vla_absent_control_msgs/msg/Control", adapters.autoware_fields))
    with pytest.raises(MessageTypeError, match=r"vla_absent_control_msgs/msg/Control.*"
                                               r"install ros-.*-vla-absent-control-msgs"):
        controller(ros_context, "autoware")


@pytest.mark.parametrize("control", ["ackermann", "carla", "autoware"])
def test_the_closed_loop_drives_with_each_control_type(control):
    """The sim profile with the constant-velocity planner, the controller's output and the
    bridge's input switched together (`eval closed-loop --control`)."""
    from vla_driving.apps.closed_loop_runner import run_stack_route
    from vla_driving.evaluation.closed_loop import ClosedLoopConfig
    from vla_driving.evaluation.closed_loop_scoring import score_route
    require_message_package({"ackermann": "ackermann_msgs", "carla": "carla_msgs",
                             "autoware": "autoware_control_msgs"}[control])
    cfg = ClosedLoopConfig(duration_s=4.0, control=control)
    route = run_stack_route(cfg, "highway", 1000, "constant_velocity",
                            {"policy": "constant_velocity"})
    assert route.finished and route.control_timeouts == 0
    row = score_route(route.log, cfg.leaderboard)
    assert row["route_completion"] > 50.0, row
    assert math.isfinite(row["driving_score"])
