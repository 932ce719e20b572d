"""Labels from recorded motion: past/future trajectory in the ego frame, controls, meta-action.

Works on any odometry track (simulator or car) at any rate: poses are interpolated at the label
times, derivatives are central differences over `derivative_window_s`, so 10 Hz simulator
odometry and 40 Hz Autoware odometry give the same kind of labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vla_driving.constants import NS_PER_S, NUM_WAYPOINTS, PAST_HORIZON_S, WAYPOINT_DT_S
from vla_driving.meta_action import MetaAction
from vla_driving.data.label_config import LabelConfig
from vla_driving.data.meta_rules import meta_action

PAST_TIMES_S = -PAST_HORIZON_S + WAYPOINT_DT_S * np.arange(int(PAST_HORIZON_S / WAYPOINT_DT_S))
FUTURE_TIMES_S = WAYPOINT_DT_S * np.arange(1, NUM_WAYPOINTS + 1)
HORIZON_S = float(FUTURE_TIMES_S[-1])


@dataclass(frozen=True)
class OdomTrack:
    """Ego poses in a fixed world frame (ROS), stamps strictly increasing."""

    t_ns: np.ndarray
    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray           # unwrapped
    speed: np.ndarray         # m/s along body x

    @classmethod
    def from_arrays(cls, t_ns, x, y, yaw, speed=None) -> "OdomTrack":
        t_ns = np.asarray(t_ns, dtype=np.int64)
        if len(t_ns) < 2:
            raise ValueError(f"odometry track needs at least 2 poses, got {len(t_ns)}")
        if np.any(np.diff(t_ns) <= 0):
            raise ValueError("odometry stamps must be strictly increasing")
        x, y = np.asarray(x, float), np.asarray(y, float)
        yaw = np.unwrap(np.asarray(yaw, float))
        if speed is None:
            t = (t_ns - t_ns[0]) / NS_PER_S
            speed = np.hypot(np.gradient(x, t), np.gradient(y, t))
        return cls(t_ns, x, y, yaw, np.abs(np.asarray(speed, float)))

    @property
    def t_s(self) -> np.ndarray:
        return (self.t_ns - self.t_ns[0]) / NS_PER_S

    def at(self, t_s: np.ndarray) -> tuple[np.ndarray, ...]:
        """Interpolated (x, y, yaw, speed) at seconds since the first pose."""
        ts = self.t_s
        return tuple(np.interp(t_s, ts, v) for v in (self.x, self.y, self.yaw, self.speed))


def with_future(track: OdomTrack, future: dict) -> OdomTrack:
    """`track` up to the future's first stamp, then the future (a DAgger frame: the past the
    policy drove, the future the shadow expert would drive from there)."""
    t = np.asarray(future["t_ns"], dtype=np.int64)
    keep = track.t_ns < t[0]
    cat = lambda a, key: np.concatenate([a[keep], np.asarray(future[key], float)])  # noqa: E731
    return OdomTrack.from_arrays(np.concatenate([track.t_ns[keep], t]), cat(track.x, "x"),
                                 cat(track.y, "y"), cat(track.yaw, "yaw"),
                                 cat(track.speed, "speed"))


@dataclass(frozen=True)
class FrameLabels:
    stamp_ns: int
    ego: np.ndarray           # (3,) speed, yaw rate, longitudinal acceleration; `build_samples`
                              # replaces it with the causal run-time values (`runtime_ego`)
    past: np.ndarray          # (4, 2) ego frame
    waypoints: np.ndarray     # (6, 2) ego frame
    controls: np.ndarray      # (2, 4) [current, next] x [speed, steer, accel, steer rate]
    meta: MetaAction
    heading_change: float     # rad over the horizon, positive left


def to_ego_frame(px, py, x0, y0, yaw0) -> np.ndarray:
    dx, dy = np.asarray(px) - x0, np.asarray(py) - y0
    c, s = np.cos(yaw0), np.sin(yaw0)
    return np.stack([c * dx + s * dy, -s * dx + c * dy], axis=-1)


def _signals(track: OdomTrack, t: np.ndarray, cfg: LabelConfig) -> np.ndarray:
    """(len(t), 5): speed, yaw rate, acceleration, steering angle, steering rate."""
    h = cfg.derivative_window_s / 2.0

    def steer(tt):
        _, _, _, v = track.at(tt)
        yr = (track.at(tt + h)[2] - track.at(tt - h)[2]) / (2 * h)
        angle = np.arctan(cfg.wheelbase_m * yr / np.maximum(v, 1e-3))
        return np.where(v < cfg.min_steering_speed, 0.0, angle), yr, v

    delta, yaw_rate, speed = steer(t)
    accel = (track.at(t + h)[3] - track.at(t - h)[3]) / (2 * h)
    rate = (steer(t + h)[0] - steer(t - h)[0]) / (2 * h)
    return np.stack([speed, yaw_rate, accel, delta, rate], axis=-1)


def valid_anchor(track: OdomTrack, t_s: float, cfg: LabelConfig) -> bool:
    """The future horizon is recorded and has no gap longer than `max_gap_s`."""
    ts = track.t_s
    end = t_s + max(HORIZON_S, cfg.next_control_dt_s + cfg.derivative_window_s / 2)
    if t_s < ts[0] or end > ts[-1]:
        return False
    lo, hi = np.searchsorted(ts, max(t_s - PAST_HORIZON_S, ts[0])), np.searchsorted(ts, end)
    window = ts[max(lo - 1, 0): hi + 1]
    return bool(len(window) < 2 or np.max(np.diff(window)) <= cfg.max_gap_s)


def future_waypoints(track: OdomTrack, stamp_ns: int,
                     cfg: LabelConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """The recorded part of a frame's future: (6, 2) waypoints in the ego frame (NaN where not
    recorded) and the (6,) mask of recorded steps; None when the stamp itself is not on the
    track. A step is recorded when the track reaches its time with no gap over `max_gap_s`
    since the frame (UniAD's `sdc_planning_mask`: the episode ends before the later steps)."""
    ts = track.t_s
    t0 = (int(stamp_ns) - int(track.t_ns[0])) / NS_PER_S
    if t0 < ts[0] or t0 > ts[-1]:
        return None
    times = t0 + FUTURE_TIMES_S
    lo = max(int(np.searchsorted(ts, t0, side="right")) - 1, 0)
    valid = np.zeros(len(times), dtype=bool)
    for k, t in enumerate(times):
        if t > ts[-1]:
            break
        hi = int(np.searchsorted(ts, t))
        window = ts[lo: hi + 1]
        if len(window) >= 2 and np.max(np.diff(window)) > cfg.max_gap_s:
            break
        valid[k] = True
    x0, y0, yaw0, _ = track.at(np.array([t0]))
    fx, fy, _, _ = track.at(times)
    waypoints = to_ego_frame(fx, fy, x0[0], y0[0], yaw0[0])
    waypoints[~valid] = np.nan
    return waypoints, valid


def labels_at(track: OdomTrack, stamp_ns: int, cfg: LabelConfig) -> FrameLabels | None:
    """Labels of the frame at `stamp_ns`, or None when its horizon is not recorded.

    The past is clamped to the first pose (an episode's first 2 s repeat its start).
    """
    t0 = (int(stamp_ns) - int(track.t_ns[0])) / NS_PER_S
    if not valid_anchor(track, t0, cfg):
        return None
    x0, y0, yaw0, _ = track.at(np.array([t0]))
    fx, fy, fyaw, _ = track.at(t0 + FUTURE_TIMES_S)
    px, py, _, _ = track.at(np.maximum(t0 + PAST_TIMES_S, 0.0))
    waypoints = to_ego_frame(fx, fy, x0[0], y0[0], yaw0[0])
    past = to_ego_frame(px, py, x0[0], y0[0], yaw0[0])
    sig = _signals(track, np.array([t0, t0 + cfg.next_control_dt_s]), cfg)
    controls = sig[:, [0, 3, 2, 4]]
    v_now = float(sig[0, 0])
    v_later = float(track.at(np.array([t0 + cfg.speed_horizon_s]))[3][0])
    heading_change = float(fyaw[-1] - yaw0[0])
    meta = meta_action(v_now, (v_later - v_now) / cfg.speed_horizon_s, waypoints, heading_change,
                       cfg)
    ego = np.array([sig[0, 0], sig[0, 1], sig[0, 2]], dtype=np.float32)
    return FrameLabels(int(stamp_ns), ego, past.astype(np.float32), waypoints.astype(np.float32),
                       controls.astype(np.float32), meta, heading_change)
