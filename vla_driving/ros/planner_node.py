"""`vla_planner`: a lifecycle node that runs a `DrivingPolicy` on the latest synchronised camera
set and publishes trajectory, decision, scene text, markers, status and diagnostics.

configure: build the ingest core and load the policy, warmed up on a dummy observation so the
first plan after activate is not the slow one (fails cleanly, with the reason, when the bundle is
missing or invalid); activate: subscribe and start planning; deactivate: stop both.
Planning runs in its own callback group at `rate_hz` (ROS clock), on the newest set only.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import Callable

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Path
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from std_msgs.msg import String
from visualization_msgs.msg import MarkerArray

from vla_driving.configuration import ConfigError
from vla_driving.constants import NS_PER_S, TOPIC_DIAGNOSTICS
from vla_driving.policy.base import DrivingPolicy, PolicyUnavailableError
from vla_driving.policy.factory import make_policy
from vla_driving.policy.planner import STATUS_ERROR, STATUS_WAITING, CycleResult, PlannerCore
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.policy.planner_inputs import INSTRUCTION
from vla_driving.policy.planner_outputs import (decision_json, description_json, status_json,
                                                trajectory_samples)
from vla_driving.sensors.ingest import Ingest, RejectionLog

from vla_driving.ros import planner_msgs as pm
from vla_driving.ros.conversions import INPUT_MESSAGES
from vla_driving.ros.messages import MessageTypeError
from vla_driving.ros.spin import spin_node
from vla_driving.ros.parameters import declare_config, read_config
from vla_driving.ros.qos import COMMAND_QOS, DIAGNOSTICS_QOS, SENSOR_QOS

NODE_NAME = "vla_planner"
INGEST_POLL_HZ = 50.0
RATE_WINDOW = 50
REJECTION_LOG_PERIOD_S = 5.0   # one line per source and reason per period

PolicyFactory = Callable[[PlannerConfig], DrivingPolicy]


class PlannerNode(LifecycleNode):
    def __init__(self, policy_factory: PolicyFactory = make_policy, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.policy_factory = policy_factory
        self.cfg: PlannerConfig = declare_config(self, PlannerConfig)
        self.configure_error: str | None = None
        self.autoware_types: tuple[type, type] | None = None
        self.empty_trajectories = 0
        self.core: PlannerCore | None = None
        self.last_result: CycleResult | None = None
        self._pubs: dict = {}
        self._subs: list = []
        self._timers: list = []
        self._plan_group = MutuallyExclusiveCallbackGroup()
        self._input_group = MutuallyExclusiveCallbackGroup()
        self._last_diag_ns = 0
        self._last_status = ""
        self._rejections = RejectionLog(REJECTION_LOG_PERIOD_S)
        self.plan_times_ns: deque[int] = deque(maxlen=RATE_WINDOW)   # ROS time of each plan

    # -- lifecycle ----------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self.cfg = read_config(self, PlannerConfig)
            self.autoware_types = (pm.autoware_trajectory_types()
                                   if self.cfg.autoware_trajectory_topic else None)
            policy = self.policy_factory(self.cfg)
        except (ConfigError, PolicyUnavailableError, OSError, MessageTypeError) as exc:
            self.configure_error = str(exc)
            self.get_logger().error(f"configure failed: {exc}")
            return TransitionCallbackReturn.FAILURE
        self.configure_error = None
        self.core = PlannerCore(self.cfg, policy, Ingest(self.cfg.ingest))
        c = self.cfg
        self._pubs = {
            "path": self.create_publisher(Path, c.trajectory_topic, COMMAND_QOS),
            "decision": self.create_publisher(String, c.decision_topic, COMMAND_QOS),
            "description": self.create_publisher(String, c.description_topic, COMMAND_QOS),
            "markers": self.create_publisher(MarkerArray, c.markers_topic, COMMAND_QOS),
            "status": self.create_publisher(String, c.status_topic, COMMAND_QOS),
            "diagnostics": self.create_publisher(DiagnosticArray, TOPIC_DIAGNOSTICS, DIAGNOSTICS_QOS),
        }
        if self.autoware_types is not None:
            self._pubs["autoware_trajectory"] = self.create_publisher(
                self.autoware_types[0], c.autoware_trajectory_topic, COMMAND_QOS)
        self.get_logger().info(f"configured with policy {policy.bundle_id or c.policy} "
                               f"(warm-up {getattr(policy, 'warm_up_s', 0.0) * 1000:.0f} ms)")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        for source in self.core.sources():
            msg_type, convert = INPUT_MESSAGES[source.kind]
            qos = COMMAND_QOS if source.kind == INSTRUCTION else SENSOR_QOS
            self._subs.append(self.create_subscription(
                msg_type, source.topic, self._input_callback(source, convert), qos,
                callback_group=self._input_group))
        self._timers = [self.create_timer(1.0 / INGEST_POLL_HZ, self._poll,
                                          callback_group=self._input_group)]
        if not self.cfg.sync_with_frames:
            self._timers.append(self.create_timer(1.0 / self.cfg.rate_hz, self.plan_once,
                                                  callback_group=self._plan_group))
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        for sub in self._subs:
            self.destroy_subscription(sub)
        for timer in self._timers:
            self.destroy_timer(timer)
        self._subs, self._timers = [], []
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.on_deactivate(state)
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        for pub in self._pubs.values():
            self.destroy_publisher(pub)
        self._pubs = {}
        if self.core is not None:
            self.core.policy.close()
            self.core = None

    # -- inputs -------------------------------------------------------------------------------
    def _now(self) -> int:
        return self.get_clock().now().nanoseconds

    def _input_callback(self, source, convert):
        def callback(msg) -> None:
            fields, stamp_ns = convert(msg)
            now = self._now()
            rejection = self.core.inputs.on_input(source, fields, stamp_ns, now)
            if self._rejections.due(rejection, now):   # counted in the diagnostics' ingest stats
                self.get_logger().warning(f"rejected input from {rejection}")
            self._plan_if_ready()
        return callback

    def _poll(self) -> None:
        self.core.ingest.poll(self._now())
        self._plan_if_ready()

    def _plan_if_ready(self) -> None:
        if self.core.inputs.frame_ready():  # lockstep: each new set once, with its odometry
            self.plan_once(force=True)

    # -- planning -----------------------------------------------------------------------------
    def plan_once(self, force: bool = False) -> CycleResult | None:
        """One planning cycle on the newest set (the timer, or each new set in sync mode)."""
        now = self._now()
        core = self.core
        if (now == 0 and not force) or core is None:
            return None
        start = time.perf_counter()
        result = core.cycle(now)
        self.last_result = result
        if result.plan is not None:
            self._publish_plan(result, now)
            core.record({"node_cycle": time.perf_counter() - start})
        elif self.cfg.sync_with_frames and result.status == STATUS_WAITING:
            # the bridge's wait_for_plan needs an answer for every frame
            self._pubs["status"].publish(String(data=status_json(True, result.stamp_ns, None, now)))
        elif result.status == STATUS_ERROR:
            self._pubs["status"].publish(String(data=status_json(False, result.stamp_ns,
                                                                 result.error, now)))
            self.get_logger().error(f"planning failed: {result.error}", throttle_duration_sec=1.0)
        for text in core.take_text():
            self._pubs["description"].publish(String(data=description_json(text, core.policy.bundle_id)))
        self._maybe_diagnostics(result, now)
        return result

    def _publish_plan(self, result: CycleResult, now: int) -> None:
        plan = result.plan
        self._pubs["path"].publish(pm.path_msg(plan, self.cfg.frame_id))
        if self.autoware_types is not None:
            self._publish_autoware_trajectory(result)
        degraded = result.status != "ok"
        self._pubs["decision"].publish(String(data=decision_json(plan, degraded)))
        self._pubs["markers"].publish(pm.markers_msg(plan, self.cfg.frame_id))
        self._pubs["status"].publish(String(data=status_json(True, plan.stamp_ns, None, now)))
        self.plan_times_ns.append(now)
        self._record_totals(result)

    def _record_totals(self, result: CycleResult) -> None:
        """`total_from_receipt`: the set's first image received -> plan published, on the
        monotonic wall clock. `image_age` (ROS clock - image stamp) only on wall time: under
        sim time the lockstep bridge holds /clock at t - dt until the plan of the frame stamped
        t is out, so that difference measured the protocol (-50 ms at 20 Hz), not the stack."""
        totals = {}
        if result.received_ns:
            wall_ns = self.core.ingest.wall_ns() - result.received_ns
            totals["total_from_receipt"] = wall_ns / NS_PER_S
        if not self._sim_time():
            totals["image_age"] = (self._now() - result.plan.stamp_ns) / NS_PER_S
        result.latency_s.update(totals)
        self.core.record(totals)

    def _sim_time(self) -> bool:
        return bool(self.get_parameter("use_sim_time").value)

    def _publish_autoware_trajectory(self, result: CycleResult) -> None:
        plan = result.plan
        msg = pm.autoware_trajectory_msg(self.autoware_types, trajectory_samples(plan, result.ego),
                                         plan.stamp_ns, self.cfg.autoware_trajectory_frame)
        if msg is None:
            self.empty_trajectories += 1
            self.get_logger().error("empty Autoware trajectory not published",
                                    throttle_duration_sec=1.0)
        else:
            self._pubs["autoware_trajectory"].publish(msg)

    def _maybe_diagnostics(self, result: CycleResult, now: int) -> None:
        changed = result.status != self._last_status
        due = now - self._last_diag_ns >= self.cfg.diagnostics_period_s * NS_PER_S
        if not (changed or due) or (result.status == STATUS_WAITING and not due):
            return
        self._last_diag_ns, self._last_status = now, result.status
        self._pubs["diagnostics"].publish(pm.diagnostics_msg(self, result, now))


def _autostart(node: "PlannerNode") -> None:
    if node.cfg.autostart and node.trigger_configure() == TransitionCallbackReturn.SUCCESS:
        node.trigger_activate()


def main(args=None) -> int:
    node = spin_node(PlannerNode, args, multithreaded=True, on_start=_autostart)
    return 0 if node.configure_error is None else 1


if __name__ == "__main__":
    sys.exit(main())
