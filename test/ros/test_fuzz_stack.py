"""Seeded fuzz of the running planner + controller (issue 19): a few thousand hostile messages on
every input (frames stamped days ahead or behind, broken images, absurd or non-finite odometry,
zero quaternions, 1 MB instructions, trajectories with huge or non-finite points, plans from the
future, garbage status), then sane input, then silence. Asserts: no command outside the vehicle
limits, no stale plan published as ok after input stops, the stop reaches zero speed, no
traceback on stdout/stderr (rclpy's logging and Python's both reach fd 2), a clean shutdown.
`FUZZ_MESSAGES` sets the count (the issue's target run used 10,000+); one FUZZ line prints the
figures."""

import math
import os
from collections import Counter
import time
import uuid

import numpy as np
import pytest
from stack_test_helpers import ros_context, wait_until  # noqa: F401

from vla_driving.control.config import ControllerConfig

pytestmark = pytest.mark.ros
NS = 1_000_000_000
MESSAGES = int(os.environ.get("FUZZ_MESSAGES", "3000"))
SEED = 19
PACE_S = float(os.environ.get("FUZZ_PACE_S", "0.001"))


def _profile(tmp_path, tag):
    text = f"""
vla_bringup:
  ros__parameters:
    nodes: [vla_planner, trajectory_controller]
    use_sim_time: false
    num_threads: 4
vla_planner:
  ros__parameters:
    policy: constant_velocity
    rate_hz: 20.0
    trajectory_topic: /fuzz{tag}/trajectory
    status_topic: /fuzz{tag}/status
    decision_topic: /fuzz{tag}/decision
    description_topic: /fuzz{tag}/description
    markers_topic: /fuzz{tag}/markers
    ingest:
      cameras: [front]
      camera_topic: /fuzz{tag}/{{camera}}/image
      odometry_topic: /fuzz{tag}/odom
      instruction_topic: /fuzz{tag}/instruction
trajectory_controller:
  ros__parameters:
    output: twist
    control_topic: /fuzz{tag}/cmd
    trajectory_topic: /fuzz{tag}/trajectory
    odometry_topic: /fuzz{tag}/odom
    status_topic: /fuzz{tag}/status
"""
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    return path


class Fuzzer:
    """Builds one random message of a random kind per call, from a seeded generator."""

    def __init__(self, node, tag, rng):
        from geometry_msgs.msg import PoseStamped
        from nav_msgs.msg import Odometry, Path
        from sensor_msgs.msg import Image
        from std_msgs.msg import String
        self.node, self.rng = node, rng
        self.sent = Counter()
        self.types = dict(Odometry=Odometry, Path=Path, Image=Image, String=String,
                          PoseStamped=PoseStamped)
        self.pubs = {
            "image": node.create_publisher(Image, f"/fuzz{tag}/front/image", 50),
            "odom": node.create_publisher(Odometry, f"/fuzz{tag}/odom", 50),
            "instruction": node.create_publisher(String, f"/fuzz{tag}/instruction", 10),
            "path": node.create_publisher(Path, f"/fuzz{tag}/trajectory", 10),
            "status": node.create_publisher(String, f"/fuzz{tag}/status", 10),
        }

    def now(self):
        return self.node.get_clock().now().nanoseconds

    def stamp(self):
        """Now, slightly off, far ahead (days) or far behind."""
        from vla_driving.ros.conversions import ns_to_stamp
        r = self.rng.random()
        offset = (0 if r < 0.5 else int(self.rng.normal(0, 0.3 * NS)) if r < 0.7
                  else int(self.rng.uniform(1, 30) * 86_400 * NS) if r < 0.85
                  else -int(self.rng.uniform(1, 1e4) * NS))
        return ns_to_stamp(max(self.now() + offset, 1))

    def number(self):
        r = self.rng.random()
        return float(self.rng.choice([math.nan, math.inf, -math.inf, 1e30, -1e30, 1e300])) \
            if r < 0.15 else float(self.rng.normal(0, 1e3)) if r < 0.3 else float(self.rng.normal(0, 10))

    def image(self, sane=False):
        import array
        msg = self.types["Image"]()
        msg.header.stamp = self.stamp() if not sane else self._now_stamp()
        h, w = (8, 8) if sane or self.rng.random() < 0.6 else tuple(self.rng.integers(0, 20, 2))
        enc = "rgb8" if sane or self.rng.random() < 0.7 else str(self.rng.choice(
            ["mono8", "bgr8", "rgba8", "yuv422", "32FC1", "nonsense"]))
        msg.height, msg.width, msg.encoding = int(h), int(w), enc
        msg.step = int(w) * 3 if sane or self.rng.random() < 0.7 else int(self.rng.integers(0, 100))
        size = msg.step * msg.height if sane or self.rng.random() < 0.7 else int(self.rng.integers(0, 400))
        msg.data = array.array("B", self.rng.integers(0, 255, size, dtype=np.uint8).tobytes())
        return msg

    def _now_stamp(self):
        from vla_driving.ros.conversions import ns_to_stamp
        return ns_to_stamp(self.now())

    def odom(self, sane=False, speed=3.0):
        msg = self.types["Odometry"]()
        msg.header.stamp = self._now_stamp() if sane else self.stamp()
        pose, twist = msg.pose.pose, msg.twist.twist
        if sane:
            pose.orientation.w, twist.linear.x = 1.0, speed
            return msg
        pose.position.x, pose.position.y = self.number(), self.number()
        q = [self.number() for _ in range(4)] if self.rng.random() < 0.4 else [0.0, 0.0, 0.0, 1.0]
        pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w = q
        twist.linear.x, twist.linear.y, twist.angular.z = self.number(), self.number(), self.number()
        return msg

    def path(self):
        msg = self.types["Path"]()
        msg.header.stamp = self.stamp()
        n = int(self.rng.integers(0, 10))
        for _ in range(n):
            p = self.types["PoseStamped"]()
            p.pose.position.x, p.pose.position.y = self.number(), self.number()
            msg.poses.append(p)
        return msg

    def text(self):
        r = self.rng.random()
        return ("x" * 1_000_000 if r < 0.05 else "\x00\x07" * 50 if r < 0.2
                else "keep the lane" if r < 0.6 else str(self.rng.bytes(40)))

    def send_random(self):
        kind = self.rng.choice(["image", "image", "odom", "odom", "instruction", "path", "status"])
        self.sent[str(kind)] += 1
        if kind == "image":
            self.pubs["image"].publish(self.image())
        elif kind == "odom":
            self.pubs["odom"].publish(self.odom())
        elif kind == "instruction":
            self.pubs["instruction"].publish(self.types["String"](data=self.text()))
        elif kind == "path":
            self.pubs["path"].publish(self.path())
        else:
            status = self.rng.choice(['{"ok": true}', '{"ok": false, "error": "x"}', "garbage",
                                      '{"ok": 1}', "{}"])
            self.pubs["status"].publish(self.types["String"](data=str(status)))

    def send_sane(self, speed=3.0):
        self.sent["sane"] += 2
        self.pubs["odom"].publish(self.odom(sane=True, speed=speed))
        self.pubs["image"].publish(self.image(sane=True))


def _unsafe(msg, cfg):
    v = cfg.vehicle
    speed, yaw_rate = msg.twist.linear.x, msg.twist.angular.z
    max_yaw_rate = v.max_speed_m_s * math.tan(v.max_steer_angle_rad) / v.wheelbase_m
    return not (math.isfinite(speed) and math.isfinite(yaw_rate) and 0.0 <= speed <= v.max_speed_m_s
                and abs(yaw_rate) <= max_yaw_rate + 1e-9)


def test_fuzzed_inputs_give_no_unsafe_command_no_freeze_and_a_clean_exit(ros_context, tmp_path,
                                                                          capfd):
    import json

    from geometry_msgs.msg import TwistStamped
    from nav_msgs.msg import Path
    from rclpy.node import Node
    from std_msgs.msg import String

    from vla_driving.ros.stack import Stack
    tag = uuid.uuid4().hex[:8]
    stack = Stack(_profile(tmp_path, tag), context=ros_context).build()
    node = Node(f"fuzzer_{tag}", context=ros_context)
    commands, statuses, paths = [], [], []
    node.create_subscription(TwistStamped, f"/fuzz{tag}/cmd",
                             lambda m: commands.append((time.monotonic(), m)), 100)
    node.create_subscription(String, f"/fuzz{tag}/status",
                             lambda m: statuses.append((time.monotonic(), m.data)), 100)
    node.create_subscription(Path, f"/fuzz{tag}/trajectory",
                             lambda m: paths.append(time.monotonic()), 100)
    stack.executor.add_node(node)
    stack.start()
    cfg = ControllerConfig()
    fuzzer = Fuzzer(node, tag, np.random.default_rng(SEED))
    try:
        for i in range(MESSAGES):
            fuzzer.send_random()
            time.sleep(PACE_S)
        # sane input again: the stack must plan and track (not frozen by the fuzz)
        sane_from = time.monotonic()
        for _ in range(40):
            fuzzer.send_sane(speed=3.0)
            time.sleep(0.025)
        assert any(t > sane_from for t in paths), "no plan on sane input after the fuzz"
        silent_from = time.monotonic()
        time.sleep(3.0)   # 3 m/s at 2 m/s^2 needs 1.5 s after the 0.3 s plan timeout
        controller = stack.nodes["trajectory_controller"]
        last = controller.last_command
        sources = stack.nodes["vla_planner"].core.ingest.stats()["sources"]
    finally:
        stack.destroy()
        node.destroy_node()
    unsafe = [m for _, m in commands if _unsafe(m, cfg)]
    assert len(commands) > 50 and not unsafe, f"{len(unsafe)} unsafe commands, e.g. {unsafe[:1]}"
    bound = silent_from + 0.5 + 0.3   # max_input_age_s + a planning period and some slack
    ok_late = [s for t, s in statuses if t > bound and json.loads(s).get("ok") is True]
    assert not ok_late, f"{len(ok_late)} ok statuses after input stopped"
    assert not [t for t in paths if t > bound], "plans published after input stopped"
    assert last.mode == "stopping" and last.speed == 0.0, last
    tail = [m.twist.linear.x for t, m in commands if t > silent_from + 2.5]
    assert tail and max(tail) == 0.0
    out, err = capfd.readouterr()
    tracebacks = (out + err).count("Traceback")
    received = sum(c["received"] for c in sources.values())
    planner_bound = sum(fuzzer.sent[k] for k in ("image", "odom", "instruction", "sane"))
    with capfd.disabled():
        print(f"\nFUZZ seed {SEED}: {MESSAGES} messages sent ({dict(fuzzer.sent)}), planner "
              f"received {received} of the {planner_bound} sent to it (rejected "
              f"{sum(sum(c['rejected'].values()) for c in sources.values())}), "
              f"{len(commands)} commands "
              f"({len(unsafe)} unsafe), {len(paths)} plans, {len(statuses)} statuses "
              f"({len(ok_late)} ok after input stopped), final command {last.mode} "
              f"{last.speed} m/s, {tracebacks} tracebacks")
    assert tracebacks == 0, (out + err)[-3000:]
    # paced so that the nodes read the fuzz (bursts of 50 every 5 ms: 1514 of ~8600 read)
    assert received >= planner_bound / 3, f"planner read {received} of {planner_bound}"
