"""What the planner publishes, as plain data: trajectory poses, decision / text / status JSON,
marker geometry and diagnostic key-values. The node only copies these into messages."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from vla_driving.constants import NS_PER_S, WAYPOINT_DT_S
from vla_driving.types import ControlSignals, Plan

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
    return json.dumps({"stamp": stamp_dict(text.stamp_ns), "stamp_ns": text.stamp_ns,
                       "description": text.description, "justification": text.justification,
                       "latency_s": text.latency_s, "bundle_id": bundle_id})


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
