"""The Autoware profile (config/autoware.yaml) on an Autoware-layout bag: the shared Autoware
odometry bag (/localization/kinematic_state, recorded on a real vehicle) with compressed camera
topics added from the simulator, replayed on /clock through the planner and the controller;
the outputs are read with the real Autoware types (built from interfaces/)."""

import math
import sqlite3
import time

import numpy as np
import pytest
import yaml
from stack_test_helpers import ROOT, require_message_package, ros_context, wait_until  # noqa: F401

pytestmark = pytest.mark.ros
NS = 10**9
PROFILE = ROOT / "config" / "autoware.yaml"
ODOMETRY_TOPIC = "/localization/kinematic_state"
ODOMETRY = "nav_msgs/msg/Odometry"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
START_S, DURATION_S, CAMERA_HZ = 20.0, 6.0, 10.0


def odometry_rows(shared_dir, start_s: float, duration_s: float) -> list[tuple[int, bytes]]:
    db = shared_dir / "bags" / "autoware_kinematic_state" / "bag_ego_trajectory.db3"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute("SELECT timestamp, data FROM messages ORDER BY timestamp").fetchall()
    t0 = rows[0][0] + int(start_s * NS)
    return [(t, bytes(d)) for t, d in rows if t0 <= t < t0 + int(duration_s * NS)]


def write_autoware_bag(path, odometry: list[tuple[int, bytes]], cameras: list[str]) -> list[int]:
    """The odometry as recorded, plus /sensing/camera/<name>/image_raw/compressed at 10 Hz from
    the simulator's cameras; returns the image stamps."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    from vla_driving.evaluation.mcap_export import jpeg_bytes
    from vla_driving.sim import SimConfig, make_sim
    ts = get_typestore(Stores.ROS2_HUMBLE)
    sim = make_sim("highway", 0, SimConfig(step_hz=CAMERA_HZ, cameras=cameras,
                                           camera_spans_m=[40.0, 100.0], image_size=128))
    first, last = odometry[0][0], odometry[-1][0]
    image_stamps = list(range(first + NS // 20, last, int(NS / CAMERA_HZ)))
    writer = Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3)
    writer.open()
    try:
        odom = writer.add_connection(ODOMETRY_TOPIC, ODOMETRY, typestore=ts)
        image_conns = {c: writer.add_connection(f"/sensing/camera/{c}/image_raw/compressed",
                                                COMPRESSED, typestore=ts) for c in cameras}
        messages = [(t, odom, raw) for t, raw in odometry]
        for stamp in image_stamps:
            for cam, image in sim.render_cameras().items():
                header = ts.types["std_msgs/msg/Header"](
                    stamp=ts.types["builtin_interfaces/msg/Time"](sec=stamp // NS,
                                                                 nanosec=stamp % NS),
                    frame_id=f"{cam}/camera_optical_link")
                msg = ts.types[COMPRESSED](header=header, format="jpeg",
                                           data=np.frombuffer(jpeg_bytes(image), dtype=np.uint8))
                messages.append((stamp, image_conns[cam], ts.serialize_cdr(msg, COMPRESSED)))
            sim.step(sim.expert_action("keep_lane"))
        for stamp, conn, raw in sorted(messages, key=lambda m: m[0]):
            writer.write(conn, stamp, raw)
    finally:
        writer.close()
        sim.close()
    return image_stamps


def ego_poses(odometry) -> dict[int, tuple[float, float, float]]:
    from rosbags.typesys import Stores, get_typestore
    ts = get_typestore(Stores.ROS2_HUMBLE)
    poses = {}
    for t, raw in odometry:
        m = ts.deserialize_cdr(raw, ODOMETRY)
        q = m.pose.pose.orientation
        stamp = m.header.stamp.sec * NS + m.header.stamp.nanosec
        poses[stamp] = (m.pose.pose.position.x, m.pose.pose.position.y,
                        math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y**2 + q.z**2)))
    return poses


def nearest(poses: dict, stamp: int):
    return poses[min(poses, key=lambda t: abs(t - stamp))]


def test_an_autoware_bag_replays_through_the_autoware_profile(ros_context, shared_dir, tmp_path):
    from rclpy.node import Node

    from vla_driving.ros.bag_player import BagPlayer
    from vla_driving.ros.conversions import stamp_to_ns
    from vla_driving.ros.messages import import_message
    from vla_driving.ros.stack import Stack
    require_message_package("autoware_planning_msgs")
    require_message_package("autoware_control_msgs")
    profile = yaml.safe_load(PROFILE.read_text())
    profile["vla_bringup"]["ros__parameters"]["use_sim_time"] = True   # the bag's /clock
    replay_profile = tmp_path / "autoware_replay.yaml"
    replay_profile.write_text(yaml.safe_dump(profile))
    planner_params = profile["vla_planner"]["ros__parameters"]
    cameras = planner_params["ingest"]["cameras"]
    odometry = odometry_rows(shared_dir, START_S, DURATION_S)
    image_stamps = write_autoware_bag(tmp_path / "bag", odometry, cameras)

    trajectories, controls = [], []
    stack = Stack(replay_profile, context=ros_context).build()
    try:
        probe = Node("autoware_probe", context=ros_context)
        probe.create_subscription(import_message("autoware_planning_msgs/msg/Trajectory"),
                                  "/planning/scenario_planning/trajectory", trajectories.append, 100)
        probe.create_subscription(import_message("autoware_control_msgs/msg/Control"),
                                  "/control/command/control_cmd", controls.append, 500)
        stack.executor.add_node(probe)
        stack.start()
        player = BagPlayer(Node("vla_bag_player", context=ros_context))
        assert player.play(tmp_path / "bag") == len(odometry) + len(image_stamps) * len(cameras)
        wait_until(lambda: False, 1.0)
        planner = stack.nodes["vla_planner"]
        assert planner.configure_error is None
        assert planner.empty_trajectories == 0
    finally:
        stack.destroy()

    print(f"autoware replay: {len(image_stamps)} camera sets, {len(trajectories)} Trajectory, "
          f"{len(controls)} Control messages")
    assert len(trajectories) >= 10, f"{len(trajectories)} trajectories"
    poses = ego_poses(odometry)
    for msg in trajectories:
        stamp = stamp_to_ns(msg.header.stamp)
        assert stamp in image_stamps and msg.header.frame_id == "map"
        assert len(msg.points) == 7
        times = [p.time_from_start.sec + p.time_from_start.nanosec / NS for p in msg.points]
        assert times == pytest.approx([0.5 * i for i in range(7)])
        x, y, yaw = nearest(poses, stamp)
        first = msg.points[0].pose
        assert math.hypot(first.position.x - x, first.position.y - y) < 0.5
        assert math.cos(2 * math.atan2(first.orientation.z, first.orientation.w) - yaw) > 0.99
        for p in msg.points:
            q = p.pose.orientation
            assert math.isclose(q.z**2 + q.w**2, 1.0, rel_tol=1e-6)
            assert math.isfinite(p.longitudinal_velocity_mps) and p.longitudinal_velocity_mps >= 0
    bag_start, bag_end = odometry[0][0], odometry[-1][0]
    assert len(controls) >= 60, f"{len(controls)} controls"
    for msg in controls:
        assert bag_start <= stamp_to_ns(msg.stamp) <= bag_end + NS
        assert msg.stamp == msg.lateral.stamp == msg.longitudinal.stamp
        assert math.isfinite(msg.longitudinal.velocity)
        assert abs(msg.lateral.steering_tire_angle) <= 0.7


def planner_node(ros_context, **params):
    from rclpy.parameter import Parameter

    from vla_driving.ros.planner_node import PlannerNode
    params = {"policy": "constant_velocity", "autostart": False,
              "autoware_trajectory_topic": "/planning/scenario_planning/trajectory", **params}
    return PlannerNode(context=ros_context,
                       parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])


def test_a_missing_trajectory_package_fails_configure_naming_type_and_package(ros_context,
                                                                            monkeypatch):
    from rclpy.lifecycle import TransitionCallbackReturn

    from vla_driving.ros import planner_msgs
    monkeypatch.setattr(planner_msgs, "AUTOWARE_TRAJECTORY", "vla_absent_planning_msgs/msg/Trajectory")
    node = planner_node(ros_context)
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert "vla_absent_planning_msgs/msg/Trajectory" in node.configure_error
        assert "install ros-" in node.configure_error and "vla-absent-planning-msgs" in node.configure_error
    finally:
        node.destroy_node()


def test_an_autoware_trajectory_without_points_is_never_published(ros_context, monkeypatch):
    from rclpy.lifecycle import TransitionCallbackReturn

    from vla_driving.policy.planner import CycleResult
    from vla_driving.ros import planner_msgs, planner_node as planner_module
    from vla_driving.types import ControlSignals, MetaAction, Plan
    require_message_package("autoware_planning_msgs")
    assert planner_msgs.autoware_trajectory_msg(planner_msgs.autoware_trajectory_types(), [],
                                                NS, "map") is None
    node = planner_node(ros_context)
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        sent = []
        node._pubs["autoware_trajectory"] = type("Recorder", (), {"publish": sent.append})()
        controls = ControlSignals(5.0, 0.0, 0.0, 0.0)
        plan = Plan(NS, np.array([[2.5 * (i + 1), 0.0] for i in range(6)]), controls, controls,
                    MetaAction("constant_speed", "straight"))
        node._publish_autoware_trajectory(CycleResult("ok", NS, plan=plan))
        assert len(sent) == 1 and len(sent[0].points) == 7
        monkeypatch.setattr(planner_module, "trajectory_samples", lambda plan, ego: [])
        node._publish_autoware_trajectory(CycleResult("ok", NS, plan=plan))
        assert len(sent) == 1 and node.empty_trajectories == 1
    finally:
        node.destroy_node()
