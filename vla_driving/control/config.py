"""The controller's one config: gains, vehicle limits, watchdog bounds and the output adapter.

The speed PID has LMDrive / TransFuser's form (windowed integral and derivative, 40 samples) and
outputs a normalised pedal command in [-1, 1]; its gains are scaled to this vehicle: K_P 0.7
pedal per m/s is a 0.5 s time constant at 3 m/s^2 full throttle, the response the simulator
bridge gives speed commands. LMDrive's K_P 5.0 braked at the full 6 m/s^2 on a 0.2 m/s error.
"""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.sensors.config import OdometryLimits

from vla_driving.control.validator import ValidatorConfig

LATERAL_TRACKERS = ("pure_pursuit", "stanley")
OUTPUT_TYPES = ("twist", "ackermann", "carla", "autoware")


@dataclass
class PidConfig(Config):
    kp: float = param(0.7, "proportional gain (pedal per m/s of speed error)", low=0.0)
    ki: float = param(0.1, "integral gain over the window", low=0.0)
    kd: float = param(0.0, "derivative gain", low=0.0)
    window: int = param(40, "samples in the integral / derivative window (LMDrive: 40)", low=1)


@dataclass
class VehicleConfig(Config):
    wheelbase_m: float = param(2.9, "front-to-rear axle distance", low=0.1, high=10.0)
    max_steer_angle_rad: float = param(0.6, "front-wheel steering limit (CARLA steer=1 maps here)",
                                       low=0.01, high=1.5)
    max_steer_rate_rad_s: float = param(1.0, "steering-rate limit", low=0.01, high=10.0)
    max_accel_m_s2: float = param(3.0, "acceleration at full throttle", low=0.1, high=10.0)
    max_decel_m_s2: float = param(6.0, "deceleration at full brake", low=0.1, high=15.0)
    max_speed_m_s: float = param(30.0, "speed targets are clipped here", low=0.5, high=80.0)


@dataclass
class WatchdogConfig(Config):
    plan_timeout_s: float = param(0.3, "stop when the last plan arrived longer ago (ROS time)",
                                  low=0.01, high=10.0)
    odom_timeout_s: float = param(0.3, "stop when odometry is older than this", low=0.01, high=10.0)
    max_plan_delay_s: float = param(2.0, "reject plans whose image stamp is older than this on "
                                    "arrival", low=0.01, high=30.0)
    max_plan_future_s: float = param(0.5, "reject plans stamped further ahead of the clock than "
                                     "this (a simulator bridge publishes frames a step before "
                                     "/clock)", low=0.0, high=10.0)
    stop_on_planner_error: bool = param(True, "a planner error status triggers a comfortable stop")
    comfort_decel_m_s2: float = param(2.0, "deceleration of the comfortable stop: the speed "
                                      "command ramps from the last command to zero at this rate",
                                      low=0.1, high=8.0)


@dataclass
class ControllerConfig(Config):
    """Config of `trajectory_controller` (YAML section of that node)."""

    rate_hz: float = param(20.0, "fixed control-loop rate", low=1.0, high=200.0)
    lateral: str = param("pure_pursuit", "lateral tracker", choices=LATERAL_TRACKERS)
    output: str = param("ackermann", "output message type", choices=OUTPUT_TYPES)
    control_topic: str = param("/vla/control", "topic the control command is published on")
    trajectory_topic: str = param("/vla/trajectory", "nav_msgs/Path from the planner")
    odometry_topic: str = param("/odom", "nav_msgs/Odometry of the ego vehicle")
    status_topic: str = param("/vla/planner_status", "planner status JSON (std_msgs/String)")
    lockstep_topic: str = param("", "lockstep with a simulator bridge: command once per step it "
                                "announces here ({now_ns, plan_ns} JSON), when the odometry of "
                                "that step and the announced plan have arrived, instead of on "
                                "the rate_hz timer ('' = timer); the timer stands in only when "
                                "nothing was announced lockstep_wait_s after start")
    lockstep_wait_s: float = param(5.0, "lockstep: wall time to wait for the announced plan or "
                                   "odometry before commanding without it (counted as late; "
                                   "the bridge's own plan wait is 5 s too)", low=0.01,
                                   high=60.0)
    frame_id: str = param("base_link", "frame_id of stamped output messages")
    lookahead_s: float = param(0.3, "speed target is read this far ahead on the plan", low=0.0,
                               high=3.0)
    pursuit_min_lookahead_m: float = param(3.0, "pure pursuit: minimum look-ahead distance",
                                           low=0.5, high=30.0)
    pursuit_gain_s: float = param(0.5, "pure pursuit: look-ahead = gain x speed (at least min)",
                                  low=0.0, high=5.0)
    stanley_gain: float = param(1.0, "Stanley cross-track gain", low=0.0, high=20.0)
    stop_speed_m_s: float = param(0.3, "targets below this brake to a standstill", low=0.0, high=3.0)
    max_throttle: float = param(0.75, "throttle clip (LMDrive: 0.75)", low=0.05, high=1.0)
    speed_pid: PidConfig = param(PidConfig(), "longitudinal PID on speed error")
    vehicle: VehicleConfig = param(VehicleConfig(), "vehicle geometry and limits")
    watchdog: WatchdogConfig = param(WatchdogConfig(), "safety watchdog bounds")
    validator: ValidatorConfig = param(ValidatorConfig(), "trajectory checks before a plan is "
                                       "tracked (after Autoware planning_validator)")
    odometry: OdometryLimits = param(OdometryLimits(), "physical bounds of accepted odometry")

    def validate(self) -> None:
        if self.watchdog.plan_timeout_s < 1.0 / self.rate_hz:
            raise ConfigError(f"watchdog.plan_timeout_s={self.watchdog.plan_timeout_s} is shorter "
                              f"than one control period (rate_hz={self.rate_hz})")
