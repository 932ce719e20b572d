"""The sim profile with perspective cameras in one process (real rclpy, simulator and panda3d):
the multi-threaded executor renders from any of its threads, the planner checks each camera's
CameraInfo and plans (constant-velocity baseline)."""

import time

import pytest
from stack_test_helpers import BASELINE, SIM_YAML, ros_context  # noqa: F401

pytestmark = pytest.mark.ros
CAMERAS = "[front, front_left]"


def perspective_profile(tmp_path):
    text = SIM_YAML.read_text()
    bridge = "      cameras: [bev_near, bev_far]\n      camera_spans_m: [40.0, 100.0]"
    planner = "      cameras: [bev_near, bev_far]\n      camera_topic"
    assert bridge in text and planner in text
    text = text.replace(bridge, f"      cameras: {CAMERAS}\n      camera_spans_m: []")
    text = text.replace(planner, f"      cameras: {CAMERAS}\n      camera_info_cameras: "
                                 f"{CAMERAS}\n      camera_topic")
    path = tmp_path / "perspective.yaml"
    path.write_text(text)
    return path


def test_sim_stack_plans_on_perspective_cameras(ros_context, tmp_path):
    pytest.importorskip("panda3d", reason="panda3d not installed (the `sim` extra)")
    from nav_msgs.msg import Path as PathMsg
    from rclpy.node import Node

    from vla_driving.ros.stack import Stack

    stack = Stack(perspective_profile(tmp_path), context=ros_context,
                  extra_overrides=BASELINE).build()
    probe = Node("probe", context=ros_context)
    paths = []
    probe.create_subscription(PathMsg, "/vla/trajectory", paths.append, 10)
    stack.executor.add_node(probe)
    stack.start()
    try:
        bridge = stack.nodes["sim_bridge"].bridge
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline and bridge.now_ns < bridge.offset_ns + 2 * 10**9:
            time.sleep(0.05)
        assert bridge.now_ns >= bridge.offset_ns + 2 * 10**9, "sim time did not advance 2 s"
        sources = stack.nodes["vla_planner"].core.ingest.stats()["sources"]
        for camera in ("front", "front_left"):
            # at most the first frame comes before its CameraInfo (two topics, no order); a
            # frame the bridge re-sends while it waits for the planner repeats its stamp
            assert sources[camera]["accepted"] >= 15
            assert set(sources[camera]["rejected"]) <= {"camera_info", "stamp_not_increasing"}
            assert sources[camera]["rejected"].get("camera_info", 0) <= 2
        assert len(paths) >= 15 and bridge.plan_timeouts == 0
    finally:
        stack.destroy()
        probe.destroy_node()
