"""camera_ingest with real rclpy: publisher and ingest node in one process (shared memory DDS)."""

import math
import time

import numpy as np
import pytest

pytestmark = pytest.mark.ros

TIMEOUT_S = 15.0


@pytest.fixture
def context():
    import rclpy
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    yield ctx
    rclpy.try_shutdown(context=ctx)


def spin_until(executor, predicate, timeout_s=TIMEOUT_S):
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    return predicate()


def _nodes(context, stream_cfg, ingest_cfg, **ingest_kwargs):
    from rclpy.executors import SingleThreadedExecutor

    from vla_driving.ros.camera_stream import CameraStream
    from vla_driving.ros.ingest_node import IngestNode
    from vla_driving.ros.parameters import config_overrides

    ingest = IngestNode(context=context, parameter_overrides=config_overrides(ingest_cfg),
                        **ingest_kwargs)
    stream = CameraStream(stream_cfg, context=context) if stream_cfg else None
    executor = SingleThreadedExecutor(context=context)
    for node in (ingest, stream):
        if node is not None:
            executor.add_node(node)
    return executor, ingest, stream


def _close(executor, *nodes):
    executor.shutdown()
    for node in nodes:
        if node is not None:
            node.destroy_node()


def test_synced_sets_carry_publisher_stamps_and_pixels(context):
    from diagnostic_msgs.msg import DiagnosticArray

    from vla_driving.ros.camera_stream import DISTINCT_FRAMES, CameraStreamConfig, synthetic_frames
    from vla_driving.sensors.config import IngestConfig

    cameras = ["front", "left", "right"]
    topic = "/t_inproc/{camera}/image"
    stream_cfg = CameraStreamConfig(cameras=cameras, camera_topic=topic, width=32, height=24,
                                    rate_hz=20.0, odometry_topic="/t_inproc/odom",
                                    instruction_topic="/t_inproc/instruction",
                                    instruction="turn left at the light", speed_mps=7.0,
                                    wait_for_subscribers=True)
    ingest_cfg = IngestConfig(cameras=cameras, camera_topic=topic, odometry_topic="/t_inproc/odom",
                              instruction_topic="/t_inproc/instruction",
                              diagnostics_period_s=0.5)
    sets = []
    executor, ingest, stream = _nodes(context, stream_cfg, ingest_cfg, on_set=sets.append)
    diagnostics = []
    ingest.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
    try:
        assert spin_until(executor, lambda: len(sets) >= 12 and diagnostics
                          and ingest.ingest.instruction)
    finally:
        _close(executor, ingest, stream)
    expected = {i: synthetic_frames(stream_cfg, i) for i in range(len(cameras))}
    for synced in sets[2:]:
        assert synced.stamp_ns in stream.stamps and not synced.degraded
        tick = stream.stamps.index(synced.stamp_ns)
        for i, camera in enumerate(cameras):
            frame = synced.frames[camera]
            assert frame.stamp_ns == synced.stamp_ns
            np.testing.assert_array_equal(frame.image, expected[i][tick % DISTINCT_FRAMES])
    assert [s.stamp_ns for s in sets] == sorted(s.stamp_ns for s in sets)
    assert ingest.ingest.ego.speed == pytest.approx(7.0)
    assert ingest.ingest.instruction == "turn left at the light"
    names = {s.name for s in diagnostics[-1].status}
    assert "camera_ingest: camera front" in names and "camera_ingest: sync" in names


def test_synchronised_sets_are_republished_for_other_nodes(context):
    """`synced_topic`: each set's views arrive as rgb8 images that all carry the set's stamp."""
    from sensor_msgs.msg import Image

    from vla_driving.ros.camera_stream import DISTINCT_FRAMES, CameraStreamConfig, synthetic_frames
    from vla_driving.ros.conversions import stamp_to_ns
    from vla_driving.ros.qos import SENSOR_QOS
    from vla_driving.sensors.config import IngestConfig

    cameras = ["front", "left"]
    topic = "/t_sets/{camera}/image"
    stream_cfg = CameraStreamConfig(cameras=cameras, camera_topic=topic, width=16, height=12,
                                    rate_hz=20.0, odometry_topic="/t_sets/odom",
                                    instruction_topic="/t_sets/instruction",
                                    wait_for_subscribers=True)
    ingest_cfg = IngestConfig(cameras=cameras, camera_topic=topic, odometry_topic="/t_sets/odom",
                              instruction_topic="/t_sets/instruction",
                              synced_topic="/t_sets/synced/{camera}/image")
    executor, ingest, stream = _nodes(context, stream_cfg, ingest_cfg)
    got = {c: [] for c in cameras}
    for camera in cameras:
        ingest.create_subscription(Image, f"/t_sets/synced/{camera}/image",
                                   got[camera].append, SENSOR_QOS)
    try:
        assert spin_until(executor, lambda: all(len(m) >= 6 for m in got.values()))
    finally:
        _close(executor, ingest, stream)
    stamps = {c: [stamp_to_ns(m.header.stamp) for m in got[c]] for c in cameras}
    common = sorted(set(stamps["front"]) & set(stamps["left"]))
    assert len(common) >= 4                        # whole sets, one stamp for every view
    expected = {i: synthetic_frames(stream_cfg, i) for i in range(len(cameras))}
    for i, camera in enumerate(cameras):
        msg = got[camera][-1]
        assert (msg.encoding, msg.height, msg.width, msg.header.frame_id) == \
            ("rgb8", 12, 16, camera)
        tick = stream.stamps.index(stamp_to_ns(msg.header.stamp))
        pixels = np.frombuffer(bytes(msg.data), np.uint8).reshape(12, 16, 3)
        np.testing.assert_array_equal(pixels, expected[i][tick % DISTINCT_FRAMES])


def test_bad_input_is_counted_and_never_blocks_other_cameras(context):
    from nav_msgs.msg import Odometry
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from std_msgs.msg import String

    from vla_driving.ros.camera_stream import CameraStreamConfig
    from vla_driving.ros.conversions import ns_to_stamp
    from vla_driving.sensors.config import IngestConfig

    topic = "/t_bad/{camera}/image"
    stream_cfg = CameraStreamConfig(cameras=["front"], camera_topic=topic, width=16, height=8,
                                    rate_hz=20.0, odometry_topic="/t_bad/odom_good")
    ingest_cfg = IngestConfig(cameras=["front", "left"], camera_topic=topic,
                              odometry_topic="/t_bad/odom", instruction_topic="/t_bad/text",
                              max_instruction_chars=10, hold_max_s=0.1)
    executor, ingest, stream = _nodes(context, stream_cfg, ingest_cfg)
    bad_pub = ingest.create_publisher(Image, "/t_bad/left/image", qos_profile_sensor_data)
    odom_pub = ingest.create_publisher(Odometry, "/t_bad/odom", qos_profile_sensor_data)
    text_pub = ingest.create_publisher(String, "/t_bad/text", 10)

    def send_bad():
        now = ingest.get_clock().now().nanoseconds
        bad = Image(height=4, width=4, encoding="yuv422", step=8, data=bytes(32))
        bad.header.stamp = ns_to_stamp(now)
        bad_pub.publish(bad)
        odom = Odometry()
        odom.header.stamp = ns_to_stamp(now)
        odom.twist.twist.linear.x = math.nan
        odom_pub.publish(odom)
        text_pub.publish(String(data="x" * 11))

    ingest.create_timer(0.1, send_bad)
    stats = lambda: ingest.ingest.stats()  # noqa: E731
    try:
        assert spin_until(executor, lambda: stats()["degraded_sets"] >= 5
                          and stats()["sources"]["left"]["rejected"]
                          and stats()["sources"]["odometry"]["rejected"]
                          and stats()["sources"]["instruction"]["rejected"])
    finally:
        _close(executor, ingest, stream)
    now = stats()
    assert set(now["sources"]["left"]["rejected"]) == {"bad_encoding"}
    assert now["sources"]["left"]["accepted"] == 0
    assert set(now["sources"]["odometry"]["rejected"]) == {"non_finite"}
    assert set(now["sources"]["instruction"]["rejected"]) == {"too_long"}
    assert now["sources"]["front"]["accepted"] >= 5 and now["missing_views"]["left"] >= 5
    assert ingest.ingest.ego is None and ingest.ingest.instruction == ""


def test_node_times_frames_with_the_ros_clock_under_sim_time(context):
    from rclpy.clock import Clock as Clock_
    from rclpy.clock import ClockType
    from rclpy.parameter import Parameter
    from rclpy.qos import qos_profile_sensor_data
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Image

    from rclpy.executors import SingleThreadedExecutor

    from vla_driving.ros.conversions import image_msg, ns_to_stamp
    from vla_driving.ros.ingest_node import IngestNode
    from vla_driving.ros.parameters import config_overrides
    from vla_driving.sensors.config import IngestConfig

    sim_start = 1000 * 10**9  # far from wall time: a wall-clock node would call every frame stale
    cfg = IngestConfig(cameras=["front"], camera_topic="/t_sim/{camera}/image",
                       max_frame_age_s=0.5)
    ingest = IngestNode(context=context, parameter_overrides=[
        Parameter("use_sim_time", value=True), *config_overrides(cfg)])
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(ingest)
    clock_pub = ingest.create_publisher(Clock, "/clock", 10)
    image_pub = ingest.create_publisher(Image, "/t_sim/front/image", qos_profile_sensor_data)
    state = {"t": sim_start}
    template = image_msg(np.zeros((4, 4, 3), np.uint8), 0, "front")

    def tick():
        state["t"] += 50 * 10**6
        clock_pub.publish(Clock(clock=ns_to_stamp(state["t"])))
        template.header.stamp = ns_to_stamp(state["t"] - 10 * 10**6)  # 10 ms old in sim time
        image_pub.publish(template)

    ingest.create_timer(0.05, tick, clock=Clock_(clock_type=ClockType.STEADY_TIME))  # feeder
    try:
        assert spin_until(executor, lambda: ingest.ingest.stats()["sets"] >= 5)
    finally:
        executor.shutdown()
        ingest.destroy_node()
    stats = ingest.ingest.stats()
    assert stats["sources"]["front"]["rejected"] == {}
    ages = np.asarray(stats["stamp_to_set_ns"]) / 1e6
    assert np.all(ages < 500), ages  # measured on the sim clock, not wall time
    latencies = np.asarray(stats["latency_ns"]) / 1e6
    assert np.all((latencies >= 0) & (latencies < 500)), latencies  # receipt -> set, wall
