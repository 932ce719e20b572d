"""Output adapters: the field values of each supported control message, as plain nested dicts.

The controller node fills a message of the selected type from these dicts, and the tests
serialise them with `rosbags` from the message definitions, so the mapping is checked even where
the message packages (ackermann_msgs, carla_msgs, autoware_control_msgs) are not installed.
Conventions: ROS steering is positive to the left; CARLA's `steer` is positive to the right and
normalised by the vehicle's maximum steering angle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from vla_driving.constants import NS_PER_S

from vla_driving.control.config import ControllerConfig
from vla_driving.control.controller import ControlCommand


def stamp_fields(stamp_ns: int) -> dict[str, int]:
    return {"sec": int(stamp_ns // NS_PER_S), "nanosec": int(stamp_ns % NS_PER_S)}


def header_fields(stamp_ns: int, frame_id: str) -> dict[str, Any]:
    return {"stamp": stamp_fields(stamp_ns), "frame_id": frame_id}


def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(float(x), lo), hi)


def twist_fields(cmd: ControlCommand, cfg: ControllerConfig) -> dict[str, Any]:
    """geometry_msgs/TwistStamped: target speed and the yaw rate of the bicycle model."""
    yaw_rate = cmd.speed * math.tan(cmd.steering_angle) / cfg.vehicle.wheelbase_m
    zero = {"x": 0.0, "y": 0.0, "z": 0.0}
    return {"header": header_fields(cmd.stamp_ns, cfg.frame_id),
            "twist": {"linear": {**zero, "x": float(cmd.speed)},
                      "angular": {**zero, "z": float(yaw_rate)}}}


def ackermann_fields(cmd: ControlCommand, cfg: ControllerConfig) -> dict[str, Any]:
    """ackermann_msgs/AckermannDriveStamped."""
    return {"header": header_fields(cmd.stamp_ns, cfg.frame_id),
            "drive": {"steering_angle": float(cmd.steering_angle),
                      "steering_angle_velocity": float(cmd.steering_rate),
                      "speed": float(cmd.speed),
                      "acceleration": float(cmd.acceleration),
                      "jerk": 0.0}}


def carla_fields(cmd: ControlCommand, cfg: ControllerConfig) -> dict[str, Any]:
    """carla_msgs/CarlaEgoVehicleControl: pedals in [0, 1], steer in [-1, 1] positive right."""
    steer = _clip(-cmd.steering_angle / cfg.vehicle.max_steer_angle_rad, -1.0, 1.0)
    return {"header": header_fields(cmd.stamp_ns, cfg.frame_id),
            "throttle": _clip(cmd.throttle, 0.0, 1.0),
            "steer": steer,
            "brake": _clip(cmd.brake, 0.0, 1.0),
            "hand_brake": False, "reverse": False, "gear": 1, "manual_gear_shift": False}


def autoware_fields(cmd: ControlCommand, cfg: ControllerConfig) -> dict[str, Any]:
    """autoware_control_msgs/Control (lateral + longitudinal, all stamped with the command time)."""
    stamp = stamp_fields(cmd.stamp_ns)
    return {"stamp": stamp, "control_time": stamp,
            "lateral": {"stamp": stamp, "control_time": stamp,
                        "steering_tire_angle": float(cmd.steering_angle),
                        "steering_tire_rotation_rate": float(cmd.steering_rate),
                        "is_defined_steering_tire_rotation_rate": True},
            "longitudinal": {"stamp": stamp, "control_time": stamp,
                             "velocity": float(cmd.speed),
                             "acceleration": float(cmd.acceleration),
                             "jerk": 0.0, "is_defined_acceleration": True,
                             "is_defined_jerk": False}}


@dataclass(frozen=True)
class OutputAdapter:
    name: str
    msg_type: str                  # ROS 2 type name, e.g. "geometry_msgs/msg/TwistStamped"
    fields: Callable[[ControlCommand, ControllerConfig], dict[str, Any]]


ADAPTERS: dict[str, OutputAdapter] = {
    "twist": OutputAdapter("twist", "geometry_msgs/msg/TwistStamped", twist_fields),
    "ackermann": OutputAdapter("ackermann", "ackermann_msgs/msg/AckermannDriveStamped",
                               ackermann_fields),
    "carla": OutputAdapter("carla", "carla_msgs/msg/CarlaEgoVehicleControl", carla_fields),
    "autoware": OutputAdapter("autoware", "autoware_control_msgs/msg/Control", autoware_fields),
}


def adapter_for(name: str) -> OutputAdapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ValueError(f"unknown output adapter {name!r}; known: {sorted(ADAPTERS)}") from None
