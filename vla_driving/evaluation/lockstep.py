"""Closed loop without ROS: the bridge core, the planner's `PlannerCore` and the controller's
`TrajectoryController` in one process, in the order the nodes exchange messages in lockstep.

Per simulator step at time t (the sim profile: `synchronous`, `wait_for_plan`, planner
`sync_with_frames`): the bridge sends odometry(t) and, every `camera_every` steps, the camera
images; the planner plans once on the new set (its odometry has arrived) and the controller takes
the plan and odometry(t) while its clock still reads the previous step (the bridge holds /clock
until the planner answered); then /clock(t) ticks the controller, whose twist command steps the
bridge. Messages are the same plain fields the nodes convert to, so the cores see what they see
over DDS; only the transport is gone. Used for training rollouts and route sweeps; the ROS closed
loop (`apps/closed_loop_runner.py`) remains the reference it is tested against.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

from vla_driving.constants import NS_PER_S
from vla_driving.control.adapters import adapter_for
from vla_driving.control.config import ControllerConfig
from vla_driving.control.controller import TrajectoryController
from vla_driving.evaluation.closed_loop import (ClosedLoopConfig, bridge_config,
                                                instruction_command, new_route, track_step)
from vla_driving.evaluation.closed_loop_scoring import RouteLog
from vla_driving.evaluation.corruptions import corrupt_sim_cameras
from vla_driving.policy.base import DrivingPolicy
from vla_driving.policy.planner import STATUS_ERROR, CycleResult, PlannerCore
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.policy.planner_inputs import CAMERA_INFO, IMAGE, INSTRUCTION, ODOMETRY
from vla_driving.sensors.camera_info import CameraInfoFields
from vla_driving.sensors.decode import RawImage
from vla_driving.sensors.ingest import Ingest
from vla_driving.sensors.odometry import OdometryError, OdometryFields, ego_from_odometry
from vla_driving.configuration import ConfigError
from vla_driving.sim.bridge import LockstepBridge, SimBridgeConfig, camera_mismatch
from vla_driving.sim.sim import Control
from vla_driving.types import EgoState

PLANNER_SECTION = "vla_planner"
CONTROLLER_SECTION = "trajectory_controller"
INSTRUCTION_PERIOD_S = 1.0    # the bridge re-sends the instruction every second


def odometry_fields(ego: EgoState) -> OdometryFields:
    """What the bridge's Odometry message carries (pose in the map frame, body-frame twist)."""
    return OdometryFields.planar(ego.stamp_ns, ego.x, ego.y, ego.yaw, ego.speed, ego.yaw_rate)


@dataclass
class LockstepRoute:
    log: RouteLog
    wall_s: float
    sim_s: float
    plans: int
    planner_errors: int


# The controller's command, as its output adapter's plain dict, into the bridge core: what the
# bridge node reads from each message type (vla_driving.ros.sim_bridge_node.CONTROL_READERS).
COMMAND_READERS = {
    "twist": lambda b, t, f: b.on_twist(t, f["twist"]["linear"]["x"], f["twist"]["angular"]["z"]),
    "ackermann": lambda b, t, f: b.on_steering(t, f["drive"]["speed"],
                                               f["drive"]["steering_angle"]),
    "carla": lambda b, t, f: b.on_pedals(t, f["throttle"], f["brake"], f["steer"],
                                         f["hand_brake"]),
    "autoware": lambda b, t, f: b.on_steering(t, f["longitudinal"]["velocity"],
                                              f["lateral"]["steering_tire_angle"]),
}


class LockstepLoop:
    """One route's bridge, planner core and controller core, stepped together."""

    def __init__(self, bridge_cfg: SimBridgeConfig, planner_cfg: PlannerConfig,
                 controller_cfg: ControllerConfig, policy: DrivingPolicy,
                 on_cycle: Callable[[CycleResult], None] | None = None) -> None:
        """`on_cycle` sees every planning cycle's result (latency samplers, route traces)."""
        self.bridge = LockstepBridge(bridge_cfg)
        self.on_cycle = on_cycle
        self.planner = PlannerCore(planner_cfg, policy, Ingest(planner_cfg.ingest))
        self.controller = TrajectoryController(controller_cfg)
        self.command_fields = adapter_for(bridge_cfg.control_type).fields
        self.send_command = COMMAND_READERS[bridge_cfg.control_type]
        self.controller_cfg = controller_cfg
        if planner_cfg.ingest.transport != "raw":
            raise ValueError("the bridge sends raw images: set ingest.transport to raw")
        self.sources = {s.slot: s for s in self.planner.sources() if s.kind != CAMERA_INFO}
        self.info_sources = {s.slot: s for s in self.planner.sources() if s.kind == CAMERA_INFO}
        # the nodes' /clock: the previous step until the planner answered on t (the bridge node
        # starts it one step before its first state)
        self._clock_ns = max(self.bridge.now_ns - int(NS_PER_S / bridge_cfg.sim.step_hz), 1)
        self._last_instruction_ns: int | None = None
        self.images: dict = {}               # the last camera set sent (rollout recorders)
        self.plans = 0
        self.planner_errors = 0

    def step(self, takeover: Control | None = None):
        """One simulator step; `takeover` (DAgger's expert) replaces the controller's command
        while the planner and controller still see every message."""
        self.exchange()
        return self.advance(takeover)

    def advance(self, takeover: Control | None = None):
        """Step the simulator on the command sent (or on `takeover`)."""
        if takeover is not None:
            self.bridge.on_control(self.bridge.now_ns, takeover)
        return self.bridge.step()

    def exchange(self) -> None:
        """The messages of the current step: sensors to the planner (and its plan to the
        controller), odometry and /clock to the controller, its command to the bridge."""
        b, now = self.bridge, self.bridge.now_ns
        ego = dataclasses.replace(b.sim.ego_state(), stamp_ns=now)
        odom = odometry_fields(ego)
        self._send_sensors(odom, now)
        self._controller_odometry(odom)
        self._clock_ns = now                 # /clock(t): the controller ticks on it
        cmd = self.controller.step(now)
        self.send_command(b, now, self.command_fields(cmd, self.controller_cfg))

    def _send_sensors(self, odom: OdometryFields, now: int) -> None:
        """The bridge node's order (instruction, odometry, images), received on the planner's
        clock, which still reads the previous step."""
        inputs, b, clock = self.planner.inputs, self.bridge, self._clock_ns
        if self._last_instruction_ns is None or \
                now - self._last_instruction_ns >= INSTRUCTION_PERIOD_S * NS_PER_S:
            self._last_instruction_ns = now
            inputs.on_input(self.sources[INSTRUCTION], b.cfg.instruction, None, clock)
        inputs.on_input(self.sources[ODOMETRY], odom, None, clock)
        if b.camera_due():
            self.images = b.sim.render_cameras()
            for cam, image in self.images.items():
                if cam in self.info_sources:      # the bridge node's CameraInfo beside it
                    info = b.cfg.sim.perspective.camera_info(cam)
                    inputs.on_input(self.info_sources[cam], CameraInfoFields(
                        info["width"], info["height"], tuple(info["k"])), now, clock)
                if cam in self.sources:
                    inputs.on_input(self.sources[cam], RawImage.rgb8(image), now, clock)
            b.cameras_published()
        if inputs.frame_ready():
            self._plan(clock)

    def _plan(self, now: int) -> None:
        result = self.planner.cycle(now)
        if self.on_cycle is not None:
            self.on_cycle(result)
        if result.plan is not None:
            self.plans += 1
            self.controller.on_plan(result.plan.waypoints, result.plan.stamp_ns, self._clock_ns)
        elif result.status == STATUS_ERROR:
            self.planner_errors += 1
            self.controller.on_planner_error(result.error or "", self._clock_ns)

    def _controller_odometry(self, odom: OdometryFields) -> None:
        try:
            ego = ego_from_odometry(odom, self.controller.poses.latest,
                                    self.controller_cfg.odometry)
        except OdometryError:
            return                          # the node logs and counts it; nothing moves
        self.controller.on_odometry(ego, self._clock_ns)

    def close(self) -> None:
        self.bridge.close()


def profile_configs(cfg: ClosedLoopConfig, scenario: str, seed: int,
                    planner: dict | None = None) -> tuple[SimBridgeConfig, PlannerConfig,
                                                          ControllerConfig]:
    """The sim profile's bridge, planner (with `planner` overrides) and controller configs."""
    base = PlannerConfig.from_yaml(cfg.profile, PLANNER_SECTION).to_dict()
    planner_cfg = PlannerConfig.from_dict({**base, **(planner or {})})
    controller = ControllerConfig.from_yaml(cfg.profile, CONTROLLER_SECTION).to_dict()
    if cfg.control:
        controller["output"] = cfg.control
    bridge = bridge_config(cfg, scenario, seed)
    why = camera_mismatch(bridge, planner_cfg.ingest.cameras, planner_cfg.ingest.camera_info_cameras)
    if why:
        raise ConfigError(f"{cfg.profile}: {why}")
    return bridge, planner_cfg, ControllerConfig.from_dict(controller)


def run_lockstep_route(cfg: ClosedLoopConfig, scenario: str, seed: int, policy_name: str,
                       policy: DrivingPolicy, planner: dict | None = None,
                       corruption: tuple[str, int] | None = None) -> LockstepRoute:
    """Drive one route with `policy` (built once by the caller and reused across routes) and
    score it with the same tracker as the ROS closed loop; `corruption` (name, severity)
    degrades the cameras as the ROS closed loop's conditions do."""
    bridge_cfg, planner_cfg, controller_cfg = profile_configs(cfg, scenario, seed, planner)
    start = time.perf_counter()
    loop = LockstepLoop(bridge_cfg, planner_cfg, controller_cfg, policy)
    try:
        sim = loop.bridge.sim
        if corruption is not None:
            corrupt_sim_cameras(sim, corruption[0], corruption[1], seed)
        tracker = new_route(sim, cfg, scenario, seed, policy_name)
        command = instruction_command(cfg)
        track_step(tracker, sim, None, command)
        while sim.time_s < cfg.duration_s and not tracker.ended:
            status = loop.step()
            track_step(tracker, sim, status, command)
        tracker.end("time")
        return LockstepRoute(tracker.log, time.perf_counter() - start, sim.time_s, loop.plans,
                             loop.planner_errors)
    finally:
        loop.close()
