"""What the planner publishes, as plain data: trajectory poses, decision / text / status JSON,
marker geometry and diagnostic key-values. The node only copies these into messages."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from vla_driving.constants import NS_PER_S, WAYPOINT_DT_S
from vla_driving.types import ControlSignals, EgoState, Plan

from vla_driving.policy.base import SceneText

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class PathPose:
    stamp_ns: int
    x: float
    y: float
    yaw: float

    def quaternion(self) -> tuple[float, float, float, float]:
        """(x, y, z, w) of a rotation by `yaw` about z."""
        return 0.0, 0.0, math.sin(self.yaw / 2.0), math.cos(self.yaw / 2.0)


def stamp_dict(stamp_ns: int) -> dict[str, int]:
    return {"sec": int(stamp_ns // NS_PER_S), "nanosec": int(stamp_ns % NS_PER_S)}


def path_poses(plan: Plan) -> list[PathPose]:
    """Poses stamped +0.5 s apart from the image stamp, heading along the trajectory."""
    pts = np.vstack([np.zeros((1, 2)), plan.waypoints])
    d = np.diff(pts, axis=0)
    poses, yaw = [], 0.0
    for i, (x, y) in enumerate(plan.waypoints):
        if np.hypot(*d[i]) > 1e-3:
            yaw = math.atan2(d[i, 1], d[i, 0])
        stamp = plan.stamp_ns + int(round((i + 1) * WAYPOINT_DT_S * NS_PER_S))
        poses.append(PathPose(stamp, float(x), float(y), yaw))
    return poses


@dataclass(frozen=True)
class TrajectorySample:
    """One point of an Autoware-style trajectory (autoware_planning_msgs/TrajectoryPoint)."""

    time_from_start_s: float
    x: float
    y: float
    yaw: float
    velocity: float          # m/s, longitudinal
    acceleration: float      # m/s^2
    heading_rate: float      # rad/s

    def quaternion(self) -> tuple[float, float, float, float]:
        return PathPose(0, self.x, self.y, self.yaw).quaternion()


def ego_at(ego: EgoState, stamp_ns: int) -> EgoState:
    """`ego` moved to `stamp_ns` at its own speed and yaw rate (odometry and images differ by a
    fraction of an odometry period)."""
    dt = (stamp_ns - ego.stamp_ns) / NS_PER_S
    yaw = ego.yaw + ego.yaw_rate * dt
    mid = ego.yaw + ego.yaw_rate * dt / 2.0
    return EgoState(stamp_ns, ego.x + ego.speed * dt * math.cos(mid),
                    ego.y + ego.speed * dt * math.sin(mid), yaw, ego.speed, ego.yaw_rate,
                    ego.acceleration)


def trajectory_samples(plan: Plan, ego: EgoState | None = None) -> list[TrajectorySample]:
    """The plan from the ego position (time 0) through each waypoint, in the odometry frame of
    `ego` (moved to the image stamp; None: the ego frame at the image stamp). The first point
    has the ego's heading; each later one the heading of the segment reaching it (kept where two
    points coincide: a stop). Velocity, acceleration and heading rate are finite differences
    over the points' times."""
    pts = np.vstack([np.zeros((1, 2)), plan.waypoints])
    t = np.concatenate([[0.0], plan.times_s])
    velocity = np.hypot(*np.gradient(pts, t, axis=0).T)
    seg = np.diff(pts, axis=0)
    yaw = np.zeros(len(pts))
    for i, (dx, dy) in enumerate(seg):
        yaw[i + 1] = math.atan2(dy, dx) if math.hypot(dx, dy) > 1e-3 else yaw[i]
    yaw = np.unwrap(yaw)
    accel, heading_rate = np.gradient(velocity, t), np.gradient(yaw, t)
    pose = ego_at(ego, plan.stamp_ns) if ego is not None else EgoState(plan.stamp_ns)
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    return [TrajectorySample(float(t[i]), float(pose.x + c * x - s * y),
                             float(pose.y + s * x + c * y),
                             math.remainder(float(yaw[i]) + pose.yaw, math.tau),
                             float(velocity[i]), float(accel[i]), float(heading_rate[i]))
            for i, (x, y) in enumerate(pts)]


def _controls(c: ControlSignals) -> dict[str, float]:
    return {"speed": c.speed, "steering_angle": c.steering_angle,
            "acceleration": c.acceleration, "steering_rate": c.steering_rate}


def decision_json(plan: Plan, degraded: bool) -> str:
    return json.dumps({
        "stamp": stamp_dict(plan.stamp_ns), "stamp_ns": plan.stamp_ns,
        "meta_action": {"speed": plan.meta_action.speed, "steering": plan.meta_action.steering},
        "controls": _controls(plan.controls), "next_controls": _controls(plan.next_controls),
        "confidence": plan.confidence, "instruction_completed": plan.instruction_completed,
        "bundle_id": plan.bundle_id, "degraded": degraded})


def description_json(text: SceneText, bundle_id: str) -> str:
    """/vla/description: the scene, the meta-action and the justification (the Sce2DriveX
    chain), and the text's own trajectory when it has one; stamped with the source image."""
    meta = text.meta_action
    waypoints = None if text.waypoints is None else np.asarray(text.waypoints).tolist()
    return json.dumps({"stamp": stamp_dict(text.stamp_ns), "stamp_ns": text.stamp_ns,
                       "description": text.description,
                       "meta_action": None if meta is None else {"speed": meta.speed,
                                                                 "steering": meta.steering},
                       "justification": text.justification, "trajectory": waypoints,
                       "latency_s": text.latency_s, "bundle_id": bundle_id})


def text_values(summary: dict | None) -> dict[str, str]:
    """Diagnostic key-values of the text path (`TextStats.summary`); {} without a text worker."""
    if summary is None:
        return {}
    out = {f"text.{k}": str(summary[k]) for k in ("requested", "accepted", "rejected", "failed")}
    for key in ("parse_rate", "rate_hz"):
        if summary.get(key) is not None:
            out[f"text.{key}"] = f"{summary[key]:.3f}"
    out.update({f"text.latency_ms.{k}": f"{v:.1f}" for k, v in summary["latency_ms"].items()
                if k.startswith("p")})
    return out


def status_json(ok: bool, stamp_ns: int | None, error: str | None, now_ns: int) -> str:
    """The controller's watchdog listens to this: ok=false is a planner error."""
    return json.dumps({"ok": ok, "error": error or "", "stamp_ns": stamp_ns, "now_ns": now_ns})


def parse_status(text: str) -> tuple[bool, str]:
    """(ok, error) from a status JSON; anything unreadable counts as an error (fails closed)."""
    try:
        data = json.loads(text)
        return data["ok"] is True, str(data.get("error", ""))
    except (ValueError, KeyError, TypeError) as exc:
        return False, f"unreadable planner status: {exc}"


def percentiles(values) -> dict[str, float]:
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.size == 0:
        return {}
    return {f"p{p}": float(np.percentile(arr, p)) for p in PERCENTILES}


def latency_values(latencies: dict, prefix: str = "latency_ms") -> dict[str, str]:
    """Diagnostic key-values: per-stage latency percentiles in ms."""
    out = {}
    for stage, values in latencies.items():
        for name, v in percentiles(values).items():
            out[f"{prefix}.{stage}.{name}"] = f"{1000.0 * v:.2f}"
    return out
