"""The trajectory controller core: plan + odometry in, one `ControlCommand` per fixed-rate step."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from vla_driving.constants import NS_PER_S
from vla_driving.types import EgoState

from vla_driving.control.config import ControllerConfig
from vla_driving.control.lateral import pure_pursuit, stanley
from vla_driving.control.path import PoseHistory, TrackedPath
from vla_driving.control.pid import WindowedPid
from vla_driving.control.validator import Validation, validate_trajectory
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
    """Tracks the latest valid plan; the watchdog turns any fault into a comfortable stop, and
    every command is bounded by the vehicle's limits whatever the plan or odometry said."""

    def __init__(self, cfg: ControllerConfig) -> None:
        self.cfg = cfg
        self.watchdog = Watchdog(cfg.watchdog)
        self.poses = PoseHistory()
        self._pid = WindowedPid(cfg.speed_pid)
        self._path: TrackedPath | None = None
        self._steer = 0.0
        self._last_step_ns: int | None = None
        self._speed_cmd: float | None = None     # last commanded speed: a stop ramps down from it
        self.last_state: WatchdogState | None = None
        self.last_validation: Validation | None = None
        self.invalid_plans: Counter = Counter()  # failed validator checks, by name
        self.plan_received_ns: int | None = None # image stamp of the newest plan, kept or not
        self._early: tuple | None = None         # a plan that came before its odometry

    @property
    def period_s(self) -> float:
        return 1.0 / self.cfg.rate_hz

    def on_odometry(self, ego: EgoState, now_ns: int | None = None) -> str | None:
        """Keep one pose; returns why it was refused (stamped ahead of the clock `now_ns`)."""
        if now_ns is not None and now_ns > 0:
            ahead_s = (ego.stamp_ns - now_ns) / NS_PER_S
            if ahead_s > self.cfg.watchdog.max_plan_future_s:
                return (f"odometry stamped {ahead_s:.3f} s in the future "
                        f"(bound {self.cfg.watchdog.max_plan_future_s} s)")
        self.poses.add(ego)
        self.watchdog.odometry_received(ego.stamp_ns, now_ns)
        if self._early is not None and ego.stamp_ns >= self._early[1]:
            early, self._early = self._early, None
            self._accept(*early)
        return None

    def on_planner_error(self, message: str, now_ns: int) -> None:
        self.watchdog.planner_error(message, now_ns)

    def on_plan(self, waypoints_ego: np.ndarray, stamp_ns: int, now_ns: int) -> str | None:
        """Accept a plan; returns the reason when it is rejected (the old plan stays, within the
        watchdog's plan timeout)."""
        self.plan_received_ns = stamp_ns if self.plan_received_ns is None else max(
            self.plan_received_ns, stamp_ns)
        latest = self.poses.latest
        if self.cfg.lockstep_topic and (latest is None or latest.stamp_ns < stamp_ns):
            # lockstep: its frame's odometry is still on the way (another topic): anchor it on
            # that pose when it comes, not on an older one, so the same messages give the same
            # path (a vehicle's controller anchors on the nearest pose it has)
            self._early = (waypoints_ego, stamp_ns, now_ns)
            return None
        self._early = None
        return self._accept(waypoints_ego, stamp_ns, now_ns)

    def _accept(self, waypoints_ego: np.ndarray, stamp_ns: int, now_ns: int) -> str | None:
        wp = np.asarray(waypoints_ego, dtype=np.float64)
        if wp.ndim != 2 or wp.shape[1] != 2 or len(wp) == 0 or not np.all(np.isfinite(wp)):
            return f"malformed waypoints of shape {wp.shape}"
        delay_s = (now_ns - stamp_ns) / NS_PER_S
        w = self.cfg.watchdog
        if delay_s > w.max_plan_delay_s:
            return f"plan stamped {delay_s:.3f} s ago (bound {w.max_plan_delay_s} s)"
        if now_ns > 0 and -delay_s > w.max_plan_future_s:  # 0: no clock yet, nothing to judge
            return f"plan stamped {-delay_s:.3f} s in the future (bound {w.max_plan_future_s} s)"
        pose = self.poses.at(stamp_ns)
        if pose is None:
            return "no odometry to anchor the plan"
        path = TrackedPath.from_plan(wp, stamp_ns, pose)
        if self.cfg.validator.enabled:
            latest = self.poses.latest
            self.last_validation = validate_trajectory(
                path.points, self.cfg.validator, np.array([latest.x, latest.y]))
            if not self.last_validation.ok:
                self.invalid_plans.update(name for name, _ in self.last_validation.failed)
                return f"invalid trajectory: {self.last_validation}"
        self._path = path
        self.watchdog.plan_received(now_ns)
        return None

    def step(self, now_ns: int) -> ControlCommand:
        dt = self.period_s if self._last_step_ns is None else max(
            (now_ns - self._last_step_ns) / NS_PER_S, 1e-3)
        self._last_step_ns = now_ns
        state = self.watchdog.check(now_ns)
        self.last_state = state
        ego = self.poses.latest
        fresh = state.odom_age_s is not None and state.odom_age_s <= self.cfg.watchdog.odom_timeout_s
        measured = ego.speed if ego is not None and fresh else None
        if not state.ok or self._path is None or ego is None:
            cmd = self._stop(now_ns, measured, dt, state.reason)
        else:
            cmd = self._track(now_ns, ego, dt)
        cmd = self._bounded(cmd)
        self._speed_cmd = cmd.speed
        return cmd

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

    def _stop(self, now_ns: int, measured: float | None, dt: float, reason: str,
              steer_target: float | None = None, mode: str = MODE_STOPPING) -> ControlCommand:
        """Comfortable stop: the speed command ramps to zero at `comfort_decel_m_s2` from the
        last command (never above a fresh measured speed), and stays there; steering is held
        (or still tracked)."""
        self._pid.reset()
        v = self.cfg.vehicle
        decel = self.cfg.watchdog.comfort_decel_m_s2
        starts = [x for x in (self._speed_cmd, measured) if x is not None]
        start = min(max(min(starts), 0.0), v.max_speed_m_s) if starts else 0.0
        target_speed = max(0.0, start - decel * dt)
        brake = min(1.0, decel / v.max_decel_m_s2)
        steer, rate = self._limit_steer(self._steer if steer_target is None else steer_target, dt)
        return ControlCommand(now_ns, target_speed, -decel if start > 0.0 else 0.0, steer, rate,
                              0.0, brake, mode, reason)

    def _bounded(self, cmd: ControlCommand) -> ControlCommand:
        """The vehicle's limits on every field, whatever produced the command; a non-finite
        field becomes a standstill with the brake (cannot happen with bounded inputs)."""
        v = self.cfg.vehicle
        values = (cmd.speed, cmd.acceleration, cmd.steering_angle, cmd.steering_rate,
                  cmd.throttle, cmd.brake)
        if not all(math.isfinite(x) for x in values):
            self._steer = 0.0 if not math.isfinite(self._steer) else self._steer
            return ControlCommand(cmd.stamp_ns, 0.0, 0.0, self._steer, 0.0, 0.0, 1.0,
                                  MODE_STOPPING, f"non-finite command ({cmd.reason})")
        clip = lambda x, lo, hi: min(max(float(x), lo), hi)  # noqa: E731
        return replace(cmd, speed=clip(cmd.speed, 0.0, v.max_speed_m_s),
                       acceleration=clip(cmd.acceleration, -v.max_decel_m_s2, v.max_accel_m_s2),
                       steering_angle=clip(cmd.steering_angle, -v.max_steer_angle_rad,
                                           v.max_steer_angle_rad),
                       steering_rate=clip(cmd.steering_rate, -v.max_steer_rate_rad_s,
                                          v.max_steer_rate_rad_s),
                       throttle=clip(cmd.throttle, 0.0, self.cfg.max_throttle),
                       brake=clip(cmd.brake, 0.0, 1.0))

    def _limit_steer(self, target: float, dt: float) -> tuple[float, float]:
        v = self.cfg.vehicle
        target = float(np.clip(target, -v.max_steer_angle_rad, v.max_steer_angle_rad))
        max_delta = v.max_steer_rate_rad_s * dt
        new = self._steer + float(np.clip(target - self._steer, -max_delta, max_delta))
        rate = (new - self._steer) / dt
        self._steer = new
        return new, rate if math.isfinite(rate) else 0.0
