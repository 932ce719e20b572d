"""`sim_bridge` with real rclpy: carla-ros-bridge layout outputs, and lockstep with the command."""

import threading

import pytest
from stack_test_helpers import ros_context, wait_until  # noqa: F401

pytestmark = pytest.mark.ros


def test_bridge_publishes_the_carla_layout_and_steps_only_on_commands(ros_context):
    from geometry_msgs.msg import TwistStamped
    from nav_msgs.msg import Odometry
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.parameter import Parameter
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Image

    from vla_driving.ros.conversions import ns_to_stamp, stamp_to_ns
    from vla_driving.ros.sim_bridge_node import SimBridgeNode

    node = SimBridgeNode(context=ros_context, parameter_overrides=[
        Parameter("control_topic", value="/cmd"), Parameter("sim.image_size", value=32),
        Parameter("control_timeout_s", value=0.2)])
    probe = Node("probe", context=ros_context)
    clocks, odoms, images = [], [], {"bev_near": [], "bev_far": []}
    probe.create_subscription(Clock, "/clock", clocks.append, 50)
    probe.create_subscription(Odometry, "/carla/ego_vehicle/odometry", odoms.append, 50)
    for cam in images:
        probe.create_subscription(Image, f"/carla/ego_vehicle/{cam}/image", images[cam].append, 50)
    cmd = probe.create_publisher(TwistStamped, "/cmd", 10)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    bridge = node.bridge
    try:
        assert wait_until(lambda: len(clocks) >= 2, 5.0), "re-sends the state before a command"
        assert bridge.sim.steps == 0, "must not step without a command (synchronous mode)"
        for _ in range(6):
            t = bridge.now_ns
            msg = TwistStamped()
            msg.header.stamp = ns_to_stamp(t)
            msg.twist.linear.x = 20.0
            cmd.publish(msg)
            assert wait_until(lambda: bridge.now_ns > t, 5.0)
            assert bridge.now_ns == t + round(1e9 / bridge.cfg.sim.step_hz), "one step per command"
        assert wait_until(lambda: len(images["bev_far"]) >= 3, 5.0)
        frame = images["bev_near"][-1]
        assert (frame.height, frame.width, frame.encoding) == (32, 32, "rgb8")
        # /clock follows the state's sensors (the state first, then its time)
        assert wait_until(lambda: stamp_to_ns(clocks[-1].clock) == bridge.now_ns, 5.0)
        clock_ns = [stamp_to_ns(c.clock) for c in clocks]
        assert clock_ns == sorted(clock_ns)
        assert clock_ns[0] < stamp_to_ns(odoms[0].header.stamp), "a clock before the first state"
        assert {stamp_to_ns(o.header.stamp) for o in odoms} <= set(clock_ns)
        assert odoms[-1].header.frame_id == "map" and odoms[-1].child_frame_id == "ego_vehicle"
        assert wait_until(lambda: bridge.control_timeouts > 0, 5.0), \
            "after commands stop, the bridge steps with the brake"
    finally:
        executor.shutdown(timeout_sec=5.0)
        thread.join(timeout=5.0)
        node.destroy_node()
        probe.destroy_node()


def test_bridge_publishes_a_camera_info_beside_each_perspective_image(ros_context):
    pytest.importorskip("panda3d", reason="panda3d not installed (the `sim` extra)")
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import CameraInfo, Image

    from vla_driving.ros.sim_bridge_node import SimBridgeNode

    node = SimBridgeNode(context=ros_context, parameter_overrides=[
        Parameter("sim.cameras", value=["front", "bev_near"]),
        Parameter("sim.camera_spans_m", value=[40.0]), Parameter("sim.image_size", value=32),
        Parameter("sim.perspective.width", value=160), Parameter("sim.perspective.height", value=90)])
    probe = Node("probe", context=ros_context)
    images, infos = {"front": [], "bev_near": []}, {"front": [], "bev_near": []}
    for cam in images:
        probe.create_subscription(Image, f"/carla/ego_vehicle/{cam}/image", images[cam].append, 10)
        probe.create_subscription(CameraInfo, f"/carla/ego_vehicle/{cam}/camera_info",
                                  infos[cam].append, 10)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: images["front"] and infos["front"] and images["bev_near"], 10.0)
        image, info = images["front"][-1], infos["front"][-1]
        assert (image.width, image.height) == (info.width, info.height) == (160, 90)
        assert info.header.stamp == image.header.stamp
        assert info.header.frame_id == image.header.frame_id == "ego_vehicle/front"
        expect = node.cfg.sim.perspective.camera_info("front")
        assert list(info.k) == pytest.approx(expect["k"]) and info.distortion_model == "plumb_bob"
        assert not infos["bev_near"], "a bird's-eye view is no pinhole camera"
    finally:
        executor.shutdown(timeout_sec=5.0)
        thread.join(timeout=5.0)
        node.destroy_node()
        probe.destroy_node()
