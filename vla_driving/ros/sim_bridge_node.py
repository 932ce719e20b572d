"""`sim_bridge`: runs the highway-env simulator (`vla_driving.sim`) behind the carla-ros-bridge
topic layout: publishes /clock, odometry and camera images, consumes the controller's command
(`control_type`: TwistStamped, AckermannDriveStamped, CarlaEgoVehicleControl or Autoware
Control), and steps in lockstep with it (see `LockstepBridge`).

The bridge is the clock source, so it runs on wall time itself (use_sim_time must stay false).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String

from vla_driving.constants import NS_PER_S, TOPIC_CLOCK, TOPIC_DIAGNOSTICS
from vla_driving.control.adapters import adapter_for
from vla_driving.sim.bridge import LockstepBridge, SimBridgeConfig

from vla_driving.ros.conversions import (camera_info_msg, image_msg, ns_to_stamp, odometry_msg,
                                         stamp_to_ns)
from vla_driving.ros.messages import import_message
from vla_driving.ros.spin import spin_node
from vla_driving.ros.parameters import declare_config
from vla_driving.ros.qos import COMMAND_QOS, DIAGNOSTICS_QOS, LOCKSTEP_QOS

NODE_NAME = "sim_bridge"
POLL_PERIOD_S = 0.002      # wall period of the lockstep check
INSTRUCTION_PERIOD_S = 1.0
CLOCK_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)
# Images: reliable so that lockstep runs see every frame (a best-effort reader still matches).
IMAGE_QOS = QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE)

# control_type -> how its message reaches the bridge core (stamp first).
CONTROL_READERS = {
    "twist": lambda b, m: b.on_twist(stamp_to_ns(m.header.stamp), m.twist.linear.x,
                                     m.twist.angular.z),
    "ackermann": lambda b, m: b.on_steering(stamp_to_ns(m.header.stamp), m.drive.speed,
                                            m.drive.steering_angle),
    "carla": lambda b, m: b.on_pedals(stamp_to_ns(m.header.stamp), m.throttle, m.brake, m.steer,
                                      m.hand_brake),
    "autoware": lambda b, m: b.on_steering(stamp_to_ns(m.stamp), m.longitudinal.velocity,
                                           m.lateral.steering_tire_angle),
}


class SimBridgeNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.cfg = declare_config(self, SimBridgeConfig)
        self.bridge = LockstepBridge(self.cfg)
        c = self.cfg
        self.clock_pub = self.create_publisher(Clock, TOPIC_CLOCK, CLOCK_QOS)
        self.odom_pub = self.create_publisher(Odometry, c.odometry_topic, IMAGE_QOS)
        self.image_pubs = {cam: self.create_publisher(Image, c.camera_topic.replace("{camera}", cam),
                                                      IMAGE_QOS) for cam in c.sim.cameras}
        self.info_pubs = {cam: self.create_publisher(
            CameraInfo, c.camera_info_topic.replace("{camera}", cam), IMAGE_QOS)
            for cam in c.sim.perspective_cameras}
        self.instruction_pub = self.create_publisher(String, c.instruction_topic, COMMAND_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, TOPIC_DIAGNOSTICS, DIAGNOSTICS_QOS)
        self.lockstep_pub = self.create_publisher(String, c.lockstep_topic, LOCKSTEP_QOS) \
            if c.wait_for_plan and c.lockstep_topic else None
        if self.lockstep_pub is not None:   # hello: lockstep controllers stop their timers
            self._announce(-1, -1)
        self._read_control = CONTROL_READERS[c.control_type]
        self.create_subscription(import_message(adapter_for(c.control_type).msg_type),
                                 c.control_topic, self._on_control, COMMAND_QOS)
        if c.wait_for_plan:
            self.create_subscription(String, c.planner_status_topic, self._on_planner_status,
                                     COMMAND_QOS)
        period = POLL_PERIOD_S if c.synchronous else 1.0 / c.sim.step_hz
        self.timer = self.create_timer(period, self._poll)
        self._last_sent_ns = -1
        self._last_resend_wall = 0.0
        self._last_instruction_ns = -INSTRUCTION_PERIOD_S * NS_PER_S
        self.steps = 0
        self._clock_pending = False
        # a clock one step before the first state, so nodes judge its stamps against a clock
        # (at clock 0 a node has none, and a planner refuses frames stamped ahead of it)
        self._clock_ns = max(self.bridge.now_ns - int(NS_PER_S / c.sim.step_hz), 1)
        self._started = False   # the first state goes out from the executor, not from here:
        # the other nodes of a stack may still be loading, and the plan wait would run out

    def _on_control(self, msg) -> None:
        self._read_control(self.bridge, msg)

    def _on_planner_status(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
            stamp, ok = data.get("stamp_ns"), data.get("ok") is True
        except (ValueError, AttributeError):
            stamp, ok = None, False
        self.bridge.on_planner_status(stamp if isinstance(stamp, int) else None, ok)

    def _poll(self) -> None:
        wall = time.monotonic()
        if not self._started:
            self._started = True
            self.clock_pub.publish(Clock(clock=ns_to_stamp(self._clock_ns)))
            self._publish_state()
            return
        if self._clock_pending:
            if not self.bridge.plan_pending(wall):
                self._clock_pending = False
                self._publish_clock()
            elif wall - self._last_resend_wall > self.cfg.control_timeout_s:
                self._publish_state(resend=True)  # a planner that joined late missed the frame
                self.clock_pub.publish(Clock(clock=ns_to_stamp(self._clock_ns)))  # and the clock
            return
        step, timed_out = self.bridge.due(wall)
        if step:
            status = self.bridge.step(timed_out)
            self.steps += 1
            if timed_out:
                self.get_logger().warning("no control command in time: stepped with the brake",
                                          throttle_duration_sec=1.0)
            if status.done:
                self._publish_diagnostics(status)
            self._publish_state()
        elif wall - self._last_resend_wall > self.cfg.control_timeout_s:
            self._publish_state(resend=True)  # late joiners (before the first command)

    def _publish_state(self, resend: bool = False) -> None:
        """Sensors first, then /clock, so a tick at time t finds the data of time t. With
        wait_for_plan, /clock waits until the planner answered on the frame (see `_poll`), so
        the controller's tick at t also finds the plan of time t."""
        self._last_resend_wall = time.monotonic()
        b, now = self.bridge, self.bridge.now_ns
        fresh = now != self._last_sent_ns
        if fresh or resend:   # before the sensors: the planner's first frame has its instruction
            if now - self._last_instruction_ns >= INSTRUCTION_PERIOD_S * NS_PER_S or resend:
                self._last_instruction_ns = now
                self.instruction_pub.publish(String(data=self.cfg.instruction))
        if fresh or resend and self._clock_pending:
            self._publish_sensors(now)
        self._last_sent_ns = now
        if b.plan_pending(time.monotonic()):
            self._clock_pending = True
        else:
            self._publish_clock()

    def _publish_clock(self) -> None:
        """The step's announcement (lockstep controllers), then /clock of the current state."""
        now = self.bridge.now_ns
        if self.lockstep_pub is not None:
            self._announce(now, self.bridge.awaited_plan_ns())
        self._clock_ns = now
        self.clock_pub.publish(Clock(clock=ns_to_stamp(now)))

    def _announce(self, now_ns: int, plan_ns: int) -> None:
        self.lockstep_pub.publish(String(data=json.dumps({"now_ns": now_ns, "plan_ns": plan_ns})))

    def _publish_sensors(self, now: int) -> None:
        b = self.bridge
        ego = dataclasses.replace(b.sim.ego_state(), stamp_ns=now)
        self.odom_pub.publish(odometry_msg(ego, self.cfg.map_frame, self.cfg.ego_frame))
        if b.camera_due():
            for cam, image in b.sim.render_cameras().items():
                frame = f"{self.cfg.ego_frame}/{cam}"
                if cam in self.info_pubs:     # beside its image, as carla-ros-bridge does
                    self.info_pubs[cam].publish(camera_info_msg(
                        self.cfg.sim.perspective.camera_info(cam), now, frame))
                self.image_pubs[cam].publish(image_msg(image, now, frame))
            b.cameras_published()

    def _publish_diagnostics(self, status) -> None:
        b = self.bridge
        values = {"episodes": b.episodes, "seed": b.episode_seed, "collision": status.collision,
                  "off_road": status.off_road, "control_timeouts": b.control_timeouts,
                  "plan_timeouts": b.plan_timeouts}
        diag = DiagnosticStatus(level=DiagnosticStatus.WARN if status.collision else DiagnosticStatus.OK,
                                name=f"{NODE_NAME}: episode", message="episode ended",
                                hardware_id=self.get_fully_qualified_name(),
                                values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
        self.diag_pub.publish(DiagnosticArray(header=Header(stamp=ns_to_stamp(b.now_ns)),
                                              status=[diag]))

    def destroy_node(self) -> None:
        self.bridge.close()
        super().destroy_node()


def main(args=None) -> int:
    spin_node(SimBridgeNode, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
