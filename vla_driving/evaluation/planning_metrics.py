"""Open-loop planning metrics: L2 displacement and collision rate under both conventions.

The seed papers report the same checkpoint under two conventions that differ by about 2x:
- UniAD: the value at the horizon's own step (L2 of the waypoint at 3 s, for "3 s").
- ST-P3: the mean of the per-step values over all steps up to the horizon (for "3 s": the mean
  over 0.5, 1.0, ..., 3.0 s). The per-step value is first averaged over samples.
Both come from the same per-step table, so they are always computed together.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from vla_driving.constants import WAYPOINT_DT_S
from vla_driving.evaluation.geometry import BOX_FIELDS, boxes_overlap, interpolate_poses, plan_poses

HORIZONS_S = (1.0, 2.0, 3.0)
CONVENTIONS = ("uniad", "stp3")
# highway-env's vehicle footprint (Vehicle.LENGTH, Vehicle.WIDTH), the ego of our simulator.
EGO_LENGTH_M = 5.0
EGO_WIDTH_M = 2.0


def horizon_step(horizon_s: float, dt_s: float = WAYPOINT_DT_S) -> int:
    """0-based waypoint index of a horizon (1.0 s -> 1 with 0.5 s steps)."""
    step = round(horizon_s / dt_s) - 1
    if step < 0 or not np.isclose((step + 1) * dt_s, horizon_s):
        raise ValueError(f"horizon {horizon_s} s is not a multiple of the {dt_s} s waypoint step")
    return step


def by_convention(per_step: np.ndarray, horizons_s: Sequence[float] = HORIZONS_S,
                  dt_s: float = WAYPOINT_DT_S) -> dict[str, dict[str, float]]:
    """{"uniad": {"1s": v, ...}, "stp3": {...}, } from a per-step table (S,), plus "avg"."""
    per_step = np.asarray(per_step, dtype=np.float64)
    out: dict[str, dict[str, float]] = {c: {} for c in CONVENTIONS}
    for h in horizons_s:
        k = horizon_step(h, dt_s)
        if k >= len(per_step):
            raise ValueError(f"horizon {h} s needs {k + 1} steps, the table has {len(per_step)}")
        key = f"{h:g}s"
        out["uniad"][key] = float(per_step[k])
        out["stp3"][key] = float(np.mean(per_step[: k + 1]))
    for c in CONVENTIONS:
        out[c]["avg"] = float(np.mean(list(out[c].values())))
    return out


def _as_batch(trajs, name: str) -> np.ndarray:
    arr = np.asarray(trajs, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[2] != 2:
        raise ValueError(f"{name}: expected (N, S, 2) waypoints, got shape {arr.shape}")
    return arr


def l2_per_step(pred, true, valid=None) -> np.ndarray:
    """Mean L2 distance (m) per waypoint step over samples; `valid` (N, S) masks missing labels."""
    pred, true = _as_batch(pred, "pred"), _as_batch(true, "true")
    if pred.shape != true.shape:
        raise ValueError(f"pred {pred.shape} and true {true.shape} differ")
    dist = np.linalg.norm(pred - true, axis=-1)
    mask = np.ones_like(dist, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    counts = mask.sum(axis=0)
    sums = np.where(mask, dist, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def l2_metrics(pred, true, valid=None, horizons_s: Sequence[float] = HORIZONS_S) -> dict:
    """L2 (m) at each horizon under both conventions, plus the per-step table."""
    per_step = l2_per_step(pred, true, valid)
    return {"per_step": per_step.tolist(), **by_convention(per_step, horizons_s)}


def collision_steps(plan, agent_boxes, ego_length: float = EGO_LENGTH_M,
                    ego_width: float = EGO_WIDTH_M, substeps: int = 1) -> np.ndarray:
    """(S,) whether the ego box placed along `plan` (S, 2) hits a ground-truth agent box.

    `agent_boxes` is (S, A, 5): every agent's box (x, y, yaw, length, width) at each future step
    in the same ego frame; rows with NaN are absent agents. With `substeps` > 1 the ego box is
    swept: also checked at poses interpolated between waypoints (against step k's agents).
    """
    if substeps < 1:
        raise ValueError(f"substeps must be >= 1, got {substeps}")
    poses = plan_poses(plan)
    agents = np.asarray(agent_boxes, dtype=np.float64)
    if agents.ndim != 3 or agents.shape[0] != len(poses) or agents.shape[2] != BOX_FIELDS:
        raise ValueError(f"agent boxes must be ({len(poses)}, A, {BOX_FIELDS}), got {agents.shape}")
    hits = np.zeros(len(poses), dtype=bool)
    previous = np.zeros(3)
    for k, pose in enumerate(poses):
        present = agents[k][np.all(np.isfinite(agents[k]), axis=1)]
        for p in interpolate_poses(previous, pose, substeps):
            ego = np.array([p[0], p[1], p[2], ego_length, ego_width])
            if len(present) and boxes_overlap(ego, present).any():
                hits[k] = True
                break
        previous = pose
    return hits


def collision_metrics(plans, agent_boxes_per_sample, horizons_s: Sequence[float] = HORIZONS_S,
                      **kwargs) -> dict:
    """Collision rate (fraction of samples, 0..1) per horizon under both conventions.

    UniAD counts a sample at "t" when the ego box at step t collides; ST-P3 averages the per-step
    collision rates over the steps up to t.
    """
    plans = _as_batch(plans, "plans")
    if len(plans) != len(agent_boxes_per_sample):
        raise ValueError(f"{len(plans)} plans but {len(agent_boxes_per_sample)} agent tables")
    if len(plans) == 0:
        return {"per_step": [], **{c: {} for c in CONVENTIONS}, "samples": 0}
    hits = np.stack([collision_steps(p, a, **kwargs) for p, a in zip(plans, agent_boxes_per_sample)])
    per_step = hits.mean(axis=0)
    return {"per_step": per_step.tolist(), **by_convention(per_step, horizons_s),
            "samples": int(len(plans))}

