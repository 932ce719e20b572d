"""The ego vehicle: a kinematic bicycle with steering-angle, steering-rate and acceleration limits.

highway-env's stock controlled vehicle can change lanes at ~35 m/s^2 of lateral acceleration.
This class replaces it inside the road so that every motion the ego makes, whoever commands it
(expert or learned policy), is one a car can drive. It works in highway-env's own frame (y down,
heading clockwise on screen); `vla_driving.sim.frames` converts to the ROS frame.
"""

from __future__ import annotations

import numpy as np
from highway_env.vehicle.behavior import IDMVehicle
from highway_env.vehicle.kinematics import Vehicle

from vla_driving.sim.config import SimConfig


class BoundedEgo(IDMVehicle):
    """Ego that executes a commanded (acceleration, steering angle) through bounded dynamics."""

    MIN_SPEED_GUARD = 0.5   # m/s below which lateral-acceleration limiting is not applied

    def setup(self, cfg: SimConfig) -> "BoundedEgo":
        self.cfg = cfg
        self.steering = 0.0          # current front-wheel angle, highway-env sign
        self.yaw_rate = 0.0
        self.accel = 0.0
        self.enable_lane_change = False
        self._cmd = (0.0, 0.0)
        return self

    def command(self, acceleration: float, steering_hw: float) -> None:
        """Set the control held until the next command (steering in highway-env sign)."""
        if not (np.isfinite(acceleration) and np.isfinite(steering_hw)):
            raise ValueError(f"non-finite control ({acceleration}, {steering_hw})")
        self._cmd = (float(acceleration), float(steering_hw))

    def act(self, action=None) -> None:
        """Called by the road every sub-step: only keep the lane bookkeeping current."""
        self.follow_road()

    def steering_limit(self, speed: float) -> float:
        cfg = self.cfg
        if abs(speed) < self.MIN_SPEED_GUARD:
            return cfg.max_steering_rad
        lat = np.arctan(cfg.wheelbase_m * cfg.max_lateral_accel / speed**2)
        return float(min(cfg.max_steering_rad, lat))

    def step(self, dt: float) -> None:
        cfg = self.cfg
        accel, steer = self._cmd
        if self.crashed:
            accel, steer = -cfg.max_brake, self.steering
        limit = self.steering_limit(self.speed)
        target = float(np.clip(steer, -limit, limit))
        max_delta = cfg.max_steering_rate_rad_s * dt
        self.steering = float(np.clip(self.steering + np.clip(target - self.steering, -max_delta,
                                                               max_delta), -limit, limit))
        accel = float(np.clip(accel, -cfg.max_brake, cfg.max_accel))
        accel = max(accel, -self.speed / dt)          # brake to a stop, never reverse
        self.yaw_rate = self.speed * np.tan(self.steering) / cfg.wheelbase_m
        self.position = self.position + self.speed * dt * np.array(
            [np.cos(self.heading), np.sin(self.heading)])
        if self.impact is not None:
            self.position = self.position + self.impact
            self.crashed = True
            self.impact = None
        self.heading += self.yaw_rate * dt
        self.speed = max(0.0, self.speed + accel * dt)
        self.accel = accel
        self.action = {"acceleration": accel, "steering": self.steering}
        self.timer += dt
        self.on_state_update()


def install_ego(env, cfg: SimConfig) -> BoundedEgo:
    """Replace the env's controlled vehicle by a `BoundedEgo` at the same state and route."""
    old = env.vehicle
    ego = BoundedEgo(old.road, old.position, heading=old.heading, speed=old.speed,
                     target_lane_index=getattr(old, "target_lane_index", None),
                     target_speed=getattr(old, "target_speed", None),
                     route=getattr(old, "route", None)).setup(cfg)
    road = env.road
    road.vehicles[road.vehicles.index(old)] = ego
    env.controlled_vehicles = [ego]
    return ego


def is_vehicle(obj) -> bool:
    return isinstance(obj, Vehicle)
