"""`trajectory_controller`: tracks the planner's trajectory at a fixed rate, publishes the
configured control message, and stops comfortably when the watchdog trips (see
`vla_driving.control`). All logic is in `TrajectoryController`; this node only moves data."""

from __future__ import annotations

import sys
import time
from collections import deque

import json

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry, Path
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from std_msgs.msg import Header, String

from vla_driving.constants import NS_PER_S, TOPIC_DIAGNOSTICS
from vla_driving.control.adapters import adapter_for
from vla_driving.control.config import ControllerConfig
from vla_driving.control.controller import MODE_TRACKING, ControlCommand, TrajectoryController
from vla_driving.control.lockstep import NEW, REPEAT, LockstepGate
from vla_driving.policy.planner_outputs import parse_status
from vla_driving.sensors.odometry import OdometryError, ego_from_odometry

from vla_driving.ros.conversions import ns_to_stamp, odometry_fields, stamp_to_ns
from vla_driving.ros.messages import fill_message, import_message
from vla_driving.ros.spin import spin_node
from vla_driving.ros.parameters import declare_config
from vla_driving.ros.qos import COMMAND_QOS, DIAGNOSTICS_QOS, LOCKSTEP_QOS, SENSOR_QOS

NODE_NAME = "trajectory_controller"
DIAGNOSTICS_PERIOD_S = 1.0
TICK_WINDOW = 10_000
LOCKSTEP_POLL_S = 0.01     # wall period of the lockstep wait check


class ControllerNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.cfg = declare_config(self, ControllerConfig)
        self.core = TrajectoryController(self.cfg)
        self.adapter = adapter_for(self.cfg.output)
        self.msg_type = import_message(self.adapter.msg_type)
        self.last_command: ControlCommand | None = None
        self.tick_wall_s: deque[float] = deque(maxlen=TICK_WINDOW)  # for rate-jitter figures
        self.rejected_plans = 0
        self.rejected_odometry = 0
        self._last_diag_ns = 0
        self._last_mode = ""
        self.pub = self.create_publisher(self.msg_type, self.cfg.control_topic, COMMAND_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, TOPIC_DIAGNOSTICS, DIAGNOSTICS_QOS)
        self.create_subscription(Path, self.cfg.trajectory_topic, self._on_path, COMMAND_QOS)
        self.create_subscription(Odometry, self.cfg.odometry_topic, self._on_odom, SENSOR_QOS)
        self.create_subscription(String, self.cfg.status_topic, self._on_status, COMMAND_QOS)
        self.timer = self.create_timer(1.0 / self.cfg.rate_hz, self._tick)
        self.lockstep = LockstepGate(self.cfg.lockstep_wait_s) if self.cfg.lockstep_topic else None
        self._started_wall = time.monotonic()
        if self.lockstep is not None:
            # once a bridge announces steps: one command per step (the timer stays for a
            # simulator that announces none); a wall timer bounds the wait for a step's inputs
            self.create_subscription(String, self.cfg.lockstep_topic, self._on_lockstep,
                                     LOCKSTEP_QOS)
            self.create_timer(LOCKSTEP_POLL_S, self._lockstep_due,
                              clock=Clock(clock_type=ClockType.STEADY_TIME))

    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _on_lockstep(self, msg: String) -> None:
        try:
            data = json.loads(msg.data)
            now_ns, plan_ns = int(data["now_ns"]), int(data["plan_ns"])
        except (ValueError, KeyError, TypeError) as exc:
            self.get_logger().warning(f"unreadable lockstep step: {exc}", throttle_duration_sec=1.0)
            return
        if not self.lockstep.active:
            self.get_logger().info(f"lockstep: commanding each step announced on "
                                   f"{self.cfg.lockstep_topic}")
        kind = self.lockstep.announce(now_ns, plan_ns, time.monotonic())
        if kind == REPEAT and self.last_command is not None:
            self._publish(self.last_command)
        elif kind == NEW:
            self._lockstep_due()

    def _lockstep_due(self) -> None:
        ego = self.core.poses.latest
        now = self.lockstep.due(self.core.plan_received_ns, None if ego is None else ego.stamp_ns,
                                time.monotonic())
        if now is not None:
            self._command(now)

    def _on_odom(self, msg: Odometry) -> None:
        try:
            ego = ego_from_odometry(odometry_fields(msg), self.core.poses.latest, self.cfg.odometry)
            why = self.core.on_odometry(ego, self._now_ns())
        except OdometryError as exc:
            why = str(exc)
        if why is not None:
            self.rejected_odometry += 1
            self.get_logger().warning(f"odometry refused: {why}", throttle_duration_sec=1.0)
        if self.lockstep is not None:
            self._lockstep_due()

    def _on_path(self, msg: Path) -> None:
        wp = np.array([[p.pose.position.x, p.pose.position.y] for p in msg.poses], dtype=np.float64)
        why = self.core.on_plan(wp.reshape(-1, 2), stamp_to_ns(msg.header.stamp), self._now_ns())
        if why is not None:
            self.rejected_plans += 1
            self.get_logger().warning(f"plan rejected: {why}", throttle_duration_sec=1.0)
            if self.core.last_validation is not None and not self.core.last_validation.ok:
                self._last_diag_ns = 0  # report an invalid trajectory on the next tick
        if self.lockstep is not None:
            self._lockstep_due()

    def _on_status(self, msg: String) -> None:
        ok, error = parse_status(msg.data)
        if not ok:
            self.core.on_planner_error(error, self._now_ns())

    def _tick(self) -> None:
        now = self._now_ns()
        if now == 0:
            return  # use_sim_time and no /clock yet
        if self.lockstep is not None and (
                self.lockstep.active
                or time.monotonic() - self._started_wall < self.cfg.lockstep_wait_s):
            return  # the bridge announces the steps (its hello may still be on its way: a
            # timer command before it steps the simulator on whatever plan is in, unrepeatably)
        self._command(now)

    def _command(self, now: int) -> None:
        """The command for time `now`, published (and diagnostics when due)."""
        self.tick_wall_s.append(time.monotonic())
        cmd = self.core.step(now)
        self.last_command = cmd
        if self.lockstep is not None:
            self.lockstep.commanded(now)
        self._publish(cmd)
        if cmd.mode != self._last_mode or now - self._last_diag_ns >= DIAGNOSTICS_PERIOD_S * NS_PER_S:
            self._publish_diagnostics(cmd, now)

    def _publish(self, cmd: ControlCommand) -> None:
        self.pub.publish(fill_message(self.msg_type(), self.adapter.fields(cmd, self.cfg)))

    def _publish_diagnostics(self, cmd: ControlCommand, now: int) -> None:
        self._last_diag_ns, self._last_mode = now, cmd.mode
        state = self.core.last_state
        status = DiagnosticStatus(
            level=DiagnosticStatus.OK if cmd.mode == MODE_TRACKING else DiagnosticStatus.WARN,
            name=f"{NODE_NAME}: watchdog", hardware_id=self.get_fully_qualified_name(),
            message=f"{cmd.mode}: {cmd.reason}")
        values = {"mode": cmd.mode, "reason": cmd.reason, "output": self.adapter.name,
                  "speed_cmd": f"{cmd.speed:.3f}", "steering_cmd": f"{cmd.steering_angle:.4f}",
                  "rejected_plans": str(self.rejected_plans),
                  "rejected_odometry": str(self.rejected_odometry),

                  "plan_age_s": "" if state is None or state.plan_age_s is None else f"{state.plan_age_s:.3f}",
                  "odom_age_s": "" if state is None or state.odom_age_s is None else f"{state.odom_age_s:.3f}"}
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        self.diag_pub.publish(DiagnosticArray(header=Header(stamp=ns_to_stamp(now)),
                                              status=[status, self._validator_status()]))

    def _validator_status(self) -> DiagnosticStatus:
        """Autoware planning_validator style: the last plan's checks and counts per check."""
        last = self.core.last_validation
        bad = last is not None and not last.ok
        values = {"invalid_plans": str(sum(self.core.invalid_plans.values())),
                  **{f"invalid.{k}": str(n) for k, n in sorted(self.core.invalid_plans.items())}}
        return DiagnosticStatus(
            level=DiagnosticStatus.ERROR if bad else DiagnosticStatus.OK,
            name=f"{NODE_NAME}: trajectory validator", hardware_id=self.get_fully_qualified_name(),
            message="no plan validated yet" if last is None else f"last plan: {last}",
            values=[KeyValue(key=k, value=v) for k, v in values.items()])


def main(args=None) -> int:
    spin_node(ControllerNode, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
