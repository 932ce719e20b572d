"""ROS-free core of the simulator bridge: lockstep stepping of `vla_driving.sim` on commands.

Synchronous mode (CARLA's term): the bridge publishes the state at sim time t and steps to
t + dt only once a control command stamped >= t has arrived, so a closed-loop run advances in the
controller's ticks, independent of wall-clock speed. Before the first command it only re-sends
the current state; after that, a command missing for `control_timeout_s` of wall time makes it
step with a braking command (counted), so a dead controller cannot freeze the simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vla_driving.configuration import Config, param
from vla_driving.constants import NS_PER_S, TOPIC_INSTRUCTION, TOPIC_LOCKSTEP, TOPIC_PLANNER_STATUS
from vla_driving.sim import Control, Sim, SimConfig, StepStatus, make_sim

SPEED_EPS_M_S = 0.5
# Control messages the bridge consumes (the controller's output adapters of the same names):
# twist = geometry_msgs/TwistStamped, ackermann = ackermann_msgs/AckermannDriveStamped,
# carla = carla_msgs/CarlaEgoVehicleControl, autoware = autoware_control_msgs/Control.
CONTROL_TYPES = ("twist", "ackermann", "carla", "autoware")


@dataclass
class SimBridgeConfig(Config):
    """Config of the `sim_bridge` node."""

    scenario: str = param("highway", "simulator scenario (vla_driving.sim.SCENARIOS)")
    seed: int = param(0, "episode seed (traffic, layout)", low=0)
    synchronous: bool = param(True, "step only when the controller answered the current tick")
    control_timeout_s: float = param(1.0, "wall time to wait for a command before stepping with "
                                     "a brake command (synchronous mode)", low=0.01, high=60.0)
    wait_for_plan: bool = param(False, "also hold each camera frame's step until the planner "
                                "reported on that frame (planner sync_with_frames): closed loops "
                                "then do not depend on inference speed")
    plan_wait_timeout_s: float = param(5.0, "wall time to wait for the planner before stepping "
                                       "on; waiting resumes when the planner reports again",
                                       low=0.01, high=600.0)
    planner_status_topic: str = param(TOPIC_PLANNER_STATUS, "planner status JSON input")
    lockstep_topic: str = param(TOPIC_LOCKSTEP, "with wait_for_plan: each step is announced "
                                "here before its /clock ({now_ns, plan_ns}), so a controller in "
                                "lockstep commands time t from the plan of the newest answered "
                                "frame, whatever order the topics arrive in ('' for none)")
    start_time_s: float = param(1.0, "ROS time of the first step (0 means 'no clock' to nodes)",
                                low=0.001, high=1e6)
    camera_every: int = param(2, "publish camera images every N steps", low=1, high=100)
    camera_topic: str = param("/carla/ego_vehicle/{camera}/image", "sensor_msgs/Image topic "
                              "template ({camera} is replaced)")
    camera_info_topic: str = param("/carla/ego_vehicle/{camera}/camera_info", "sensor_msgs/"
                                   "CameraInfo topic template of the perspective cameras, "
                                   "published with each of their images")
    odometry_topic: str = param("/carla/ego_vehicle/odometry", "nav_msgs/Odometry output")
    control_topic: str = param("/vla/control", "control command input (type: control_type)")
    control_type: str = param("twist", "control message consumed: twist (speed + yaw rate), "
                              "ackermann / autoware (speed + steering angle), carla (pedals + "
                              "normalised steer)", choices=CONTROL_TYPES)
    pedal_accel_m_s2: float = param(3.0, "carla control: acceleration at full throttle",
                                    low=0.1, high=10.0)
    pedal_decel_m_s2: float = param(6.0, "carla control: deceleration at full brake",
                                    low=0.1, high=15.0)
    instruction_topic: str = param(TOPIC_INSTRUCTION, "std_msgs/String instruction output")
    instruction: str = param("keep the current lane", "instruction published each second")
    map_frame: str = param("map", "odometry frame")
    ego_frame: str = param("ego_vehicle", "ego body frame (odometry child frame)")
    speed_time_constant_s: float = param(0.5, "twist speed command -> acceleration time constant",
                                         low=0.05, high=5.0)
    reset_on_done: bool = param(True, "start a new episode (seed + 1) when this one ends")
    sim: SimConfig = param(SimConfig(), "simulator settings")


def camera_mismatch(bridge: SimBridgeConfig, cameras: list[str],
                    camera_info_cameras: list[str] = ()) -> str:
    """Why an ingest reading `cameras` (and CameraInfo of `camera_info_cameras`) from this
    bridge would starve ('' when it would not): one line naming the camera."""
    for camera in cameras:
        if camera not in bridge.sim.cameras:
            return (f"camera {camera!r}: the planner reads it, the bridge's sim.cameras "
                    f"{bridge.sim.cameras} lacks it")
    for camera in camera_info_cameras:
        if camera not in bridge.sim.perspective_cameras:
            return (f"camera {camera!r}: the planner needs its CameraInfo, the bridge publishes "
                    f"CameraInfo only for its perspective cameras {bridge.sim.perspective_cameras}")
    return ""


def control_from_twist(speed_cmd: float, yaw_rate_cmd: float, speed: float, cfg: SimBridgeConfig
                       ) -> Control:
    """Speed / yaw-rate command -> bicycle acceleration and steering angle (bounded by the sim)."""
    if not (math.isfinite(speed_cmd) and math.isfinite(yaw_rate_cmd)):
        return brake_control(cfg)
    accel = (speed_cmd - speed) / cfg.speed_time_constant_s
    accel = float(np.clip(accel, -cfg.sim.max_brake, cfg.sim.max_accel))
    v = max(speed_cmd, speed)
    steer = math.atan(yaw_rate_cmd * cfg.sim.wheelbase_m / v) if v > SPEED_EPS_M_S else 0.0
    return Control(accel, float(np.clip(steer, -cfg.sim.max_steering_rad, cfg.sim.max_steering_rad)))


def control_from_steering(speed_cmd: float, steering_angle: float, speed: float,
                          cfg: SimBridgeConfig) -> Control:
    """Speed / front-wheel angle command (Ackermann, Autoware) -> bicycle control."""
    if not (math.isfinite(speed_cmd) and math.isfinite(steering_angle)):
        return brake_control(cfg)
    accel = (speed_cmd - speed) / cfg.speed_time_constant_s
    accel = float(np.clip(accel, -cfg.sim.max_brake, cfg.sim.max_accel))
    limit = cfg.sim.max_steering_rad
    return Control(accel, float(np.clip(steering_angle, -limit, limit)))


def control_from_pedals(throttle: float, brake: float, steer: float, hand_brake: bool,
                        cfg: SimBridgeConfig) -> Control:
    """CARLA pedals in [0, 1] and steer in [-1, 1] (positive right, normalised by the vehicle's
    maximum steering angle) -> bicycle control."""
    if hand_brake or not all(math.isfinite(x) for x in (throttle, brake, steer)):
        return brake_control(cfg)
    accel = (float(np.clip(throttle, 0.0, 1.0)) * cfg.pedal_accel_m_s2
             - float(np.clip(brake, 0.0, 1.0)) * cfg.pedal_decel_m_s2)
    accel = float(np.clip(accel, -cfg.sim.max_brake, cfg.sim.max_accel))
    return Control(accel, -float(np.clip(steer, -1.0, 1.0)) * cfg.sim.max_steering_rad)


def brake_control(cfg: SimBridgeConfig) -> Control:
    return Control(-cfg.sim.max_brake / 2.0, 0.0)


class LockstepBridge:
    """Owns the simulator; the node asks `due()` and calls `step()` / reads the state."""

    def __init__(self, cfg: SimBridgeConfig, sim: Sim | None = None) -> None:
        self.cfg = cfg
        self.episode_seed = cfg.seed
        self.sim = sim or make_sim(cfg.scenario, cfg.seed, cfg.sim)
        self.offset_ns = int(round(cfg.start_time_s * NS_PER_S))
        self.episode_offset_ns = 0
        self.control: Control = brake_control(cfg)
        self.control_stamp_ns = -1
        self.started = False
        self.control_timeouts = 0
        self.episodes = 1
        self.last_status: StepStatus | None = None
        self._waiting_since: float | None = None
        self.camera_ns = -1            # stamp of the last published camera frame
        self.plan_ns = -1              # newest frame stamp the planner reported on
        self.plan_ok_ns = -1           # ... and reported a plan on
        self.planner_alive = cfg.wait_for_plan   # expect one; a silent one is given up on
        self.plan_timeouts = 0
        self._plan_wait_since: float | None = None

    @property
    def now_ns(self) -> int:
        """ROS time of the current simulator state."""
        return self.offset_ns + self.episode_offset_ns + self.sim.stamp_ns

    def camera_due(self) -> bool:
        return self.sim.steps % self.cfg.camera_every == 0

    def on_twist(self, stamp_ns: int, speed_cmd: float, yaw_rate_cmd: float) -> None:
        speed = self.sim.ego_state().speed
        self.on_control(stamp_ns, control_from_twist(speed_cmd, yaw_rate_cmd, speed, self.cfg))

    def on_steering(self, stamp_ns: int, speed_cmd: float, steering_angle: float) -> None:
        speed = self.sim.ego_state().speed
        self.on_control(stamp_ns, control_from_steering(speed_cmd, steering_angle, speed, self.cfg))

    def on_pedals(self, stamp_ns: int, throttle: float, brake: float, steer: float,
                  hand_brake: bool = False) -> None:
        self.on_control(stamp_ns, control_from_pedals(throttle, brake, steer, hand_brake, self.cfg))

    def on_control(self, stamp_ns: int, control: Control) -> None:
        """A command stamped `stamp_ns`, already converted to the simulator's control."""
        self.control = control
        self.control_stamp_ns = max(self.control_stamp_ns, stamp_ns)
        if not self.started:
            self.started, self._waiting_since = True, None  # the timeout counts from here

    def cameras_published(self) -> None:
        self.camera_ns = self.now_ns

    def on_planner_status(self, stamp_ns: int | None, ok: bool = True) -> None:
        """The planner reported (plan, error or waiting) on the frame stamped `stamp_ns`."""
        self.planner_alive = True
        if stamp_ns is not None:
            self.plan_ns = max(self.plan_ns, int(stamp_ns))
            if ok:
                self.plan_ok_ns = max(self.plan_ok_ns, int(stamp_ns))

    def awaited_plan_ns(self) -> int:
        """The frame whose plan a lockstep controller must hold before commanding the current
        step (-1: none, when the bridge does not wait for the planner or gave up on it)."""
        return self.plan_ok_ns if self.cfg.wait_for_plan and self.planner_alive else -1

    def plan_pending(self, wall_s: float) -> bool:
        """A camera frame waits for the planner (bounded by `plan_wait_timeout_s` of wall time)."""
        if not (self.cfg.wait_for_plan and self.planner_alive and self.plan_ns < self.camera_ns):
            self._plan_wait_since = None
            return False
        if self._plan_wait_since is None:
            self._plan_wait_since = wall_s
        if wall_s - self._plan_wait_since > self.cfg.plan_wait_timeout_s:
            self.plan_timeouts += 1
            self.planner_alive, self._plan_wait_since = False, None
            return False
        return True

    def due(self, wall_s: float) -> tuple[bool, bool]:
        """(step now, the step uses the brake because the command timed out)."""
        if self.plan_pending(wall_s):
            return False, False
        if not self.cfg.synchronous or self.control_stamp_ns >= self.now_ns:
            self._waiting_since = None
            return True, False
        if self._waiting_since is None:
            self._waiting_since = wall_s
        if self.started and wall_s - self._waiting_since > self.cfg.control_timeout_s:
            self._waiting_since = None
            return True, True
        return False, False

    def step(self, timed_out: bool = False) -> StepStatus:
        if timed_out:
            self.control_timeouts += 1
            self.control = brake_control(self.cfg)
        status = self.sim.step(self.control)
        self.last_status = status
        if status.done and self.cfg.reset_on_done:
            self.episode_offset_ns += self.sim.stamp_ns
            self.episode_seed += 1
            self.sim.seed = self.episode_seed
            self.sim.reset()
            self.episodes += 1
        return status

    def close(self) -> None:
        self.sim.close()
        if self.cfg.sim.perspective_cameras:    # the process's panda3d context and buffers
            from vla_driving.sim.perspective import close_shared_renderer

            close_shared_renderer()
