"""The trajectory controller core: plan + odometry in, one `ControlCommand` per fixed-rate step."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vla_driving.constants import NS_PER_S
from vla_driving.types import EgoState

from vla_driving.control.config import ControllerConfig
from vla_driving.control.lateral import pure_pursuit, stanley
from vla_driving.control.path import PoseHistory, TrackedPath
from vla_driving.control.pid import WindowedPid
from vla_driving.control.watchdog import Watchdog, WatchdogState

MODE_TRACKING = "tracking"
MODE_STOPPING = "stopping"


@dataclass(frozen=True)
class ControlCommand:
    """Physical command plus the normalised pedals, from which every output adapter is derived."""

    stamp_ns: int
    speed: float            # target speed, m/s
    acceleration: float     # m/s^2 (negative: braking)
    steering_angle: float   # rad, front wheel, positive left
    steering_rate: float    # rad/s
    throttle: float         # [0, 1]
    brake: float            # [0, 1]
    mode: str
    reason: str


class TrajectoryController:
    """Tracks the latest plan; the watchdog turns any fault into a comfortable stop."""

    def __init__(self, cfg: ControllerConfig) -> None:
        self.cfg = cfg
        self.watchdog = Watchdog(cfg.watchdog)
        self.poses = PoseHistory()
        self._pid = WindowedPid(cfg.speed_pid)
        self._path: TrackedPath | None = None
        self._steer = 0.0
        self._last_step_ns: int | None = None
        self.last_state: WatchdogState | None = None

    @property
    def period_s(self) -> float:
        return 1.0 / self.cfg.rate_hz

    def on_odometry(self, ego: EgoState) -> None:
        self.poses.add(ego)
        self.watchdog.odometry_received(ego.stamp_ns)

    def on_planner_error(self, message: str, now_ns: int) -> None:
        self.watchdog.planner_error(message, now_ns)

    def on_plan(self, waypoints_ego: np.ndarray, stamp_ns: int, now_ns: int) -> str | None:
        """Accept a plan; returns the reason when it is rejected (the old plan stays)."""
        wp = np.asarray(waypoints_ego, dtype=np.float64)
        if wp.ndim != 2 or wp.shape[1] != 2 or len(wp) == 0 or not np.all(np.isfinite(wp)):
            return f"malformed waypoints of shape {wp.shape}"
        delay_s = (now_ns - stamp_ns) / NS_PER_S
        if delay_s > self.cfg.watchdog.max_plan_delay_s:
            return f"plan stamped {delay_s:.3f} s ago (bound {self.cfg.watchdog.max_plan_delay_s} s)"
        pose = self.poses.at(stamp_ns)
        if pose is None:
            return "no odometry to anchor the plan"
        self._path = TrackedPath.from_plan(wp, stamp_ns, pose)
        self.watchdog.plan_received(now_ns)
        return None

    def step(self, now_ns: int) -> ControlCommand:
        dt = self.period_s if self._last_step_ns is None else max(
            (now_ns - self._last_step_ns) / NS_PER_S, 1e-3)
        self._last_step_ns = now_ns
        state = self.watchdog.check(now_ns)
        self.last_state = state
        ego = self.poses.latest
        speed = ego.speed if ego is not None else 0.0
        if not state.ok or self._path is None or ego is None:
            return self._stop(now_ns, speed, dt, state.reason)
        return self._track(now_ns, ego, dt)

    def _track(self, now_ns: int, ego: EgoState, dt: float) -> ControlCommand:
        path = self._path
        t = (now_ns - path.stamp_ns) / NS_PER_S + self.cfg.lookahead_s
        target = min(path.speed_at(t), self.cfg.vehicle.max_speed_m_s)
        path_ego = path.in_ego(ego)
        v = self.cfg.vehicle
        if self.cfg.lateral == "stanley":
            steer = stanley(path_ego, ego.speed, v.wheelbase_m, self.cfg.stanley_gain)
        else:
            steer = pure_pursuit(path_ego, ego.speed, v.wheelbase_m,
                                 self.cfg.pursuit_min_lookahead_m, self.cfg.pursuit_gain_s)
        if target < self.cfg.stop_speed_m_s:
            return self._stop(now_ns, ego.speed, dt, "plan stops", steer_target=steer,
                              mode=MODE_TRACKING)
        pedal = float(np.clip(self._pid.step(target - ego.speed), -1.0, 1.0))
        throttle = min(max(pedal, 0.0), self.cfg.max_throttle)
        brake = max(-pedal, 0.0)
        accel = throttle * v.max_accel_m_s2 - brake * v.max_decel_m_s2
        steer, rate = self._limit_steer(steer, dt)
        return ControlCommand(now_ns, target, accel, steer, rate, throttle, brake, MODE_TRACKING, "ok")

    def _stop(self, now_ns: int, speed: float, dt: float, reason: str,
              steer_target: float | None = None, mode: str = MODE_STOPPING) -> ControlCommand:
        """Comfortable stop: constant deceleration, steering held (or still tracked)."""
        self._pid.reset()
        decel = self.cfg.watchdog.comfort_decel_m_s2
        moving = speed > self.cfg.stop_speed_m_s
        target_speed = max(0.0, speed - decel * dt) if moving else 0.0
        brake = min(1.0, decel / self.cfg.vehicle.max_decel_m_s2)
        steer, rate = self._limit_steer(self._steer if steer_target is None else steer_target, dt)
        return ControlCommand(now_ns, target_speed, -decel if moving else 0.0, steer, rate,
                              0.0, brake, mode, reason)

    def _limit_steer(self, target: float, dt: float) -> tuple[float, float]:
        v = self.cfg.vehicle
        target = float(np.clip(target, -v.max_steer_angle_rad, v.max_steer_angle_rad))
        max_delta = v.max_steer_rate_rad_s * dt
        new = self._steer + float(np.clip(target - self._steer, -max_delta, max_delta))
        rate = (new - self._steer) / dt
        self._steer = new
        return new, rate if math.isfinite(rate) else 0.0
