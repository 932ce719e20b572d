"""Open-loop planning metrics: L2 displacement and collision rate, each under the published
conventions, every one named after the code it follows.

L2 (m), `L2_CONVENTIONS`:
- `uniad`: UniAD `projects/mmdet3d_plugin/uniad/dense_heads/planning_head_plugin/
  planning_metrics.py` (`PlanningMetric.compute_L2` / `update` / `compute`). Every sample counts
  (N = all evaluated frames); a step without ground truth (the episode ends before it) adds 0
  but still counts in N. The figure at horizon h is the per-step value of h's own step.
- `stp3`: ST-P3 `evaluate.py` + `stp3/metrics.py`, as VAD re-implements it
  (`projects/mmdet3d_plugin/VAD/planner/metric_stp3.py::compute_L2`,
  `VAD/VAD.py::compute_planner_metric_stp3`, averaged over `fut_valid_flag` samples in
  `datasets/nuscenes_vad_dataset.py`). Only samples with a complete future count; the figure at
  h is the mean over the steps up to h (per sample, then over samples: the same number).

Collision rate (fraction 0..1), `COLLISION_CONVENTIONS`:
- `uniad`: UniAD `planning_metrics.py::evaluate_coll` (`obj_box_col`): the nuScenes ego box
  (4.084 x 1.85 m) centred 0.5 m ahead of each waypoint, never turned (the footprint is a fixed
  polygon shifted along the plan); obstacles are the vehicles only (UniAD's occupancy ground
  truth). A step where the same box on the ground-truth trajectory already overlaps an obstacle
  is excluded (adds 0, still counted); every sample counts, like its L2. Value at h's step.
- `vad`: VAD `metric_stp3.py::evaluate_coll` with the occupancy of `compute_planner_metric_stp3`
  (vehicles OR pedestrians, as ST-P3's `evaluate.py`): the same box, fixed heading and
  ground-truth exclusion; samples with a complete future; mean over the steps up to h.
- `swept`: our physical check, no published counterpart: the simulator's ego box (highway-env's
  5.0 x 2.0 m) turned to the direction of travel and swept between waypoints (`SWEPT_SUBSTEPS`
  poses per 0.5 s), against every ground-truth box (vehicles, pedestrians, barriers, cones,
  any obstacle), no exclusion; samples with a complete future; the figure at h is the fraction
  of samples whose plan has hit something at or before h.

Deviation common to `uniad` and `vad`: the upstream code rasterises boxes onto a 0.5 m BEV grid
(`skimage.draw.polygon`, `cv2.fillPoly`); here the same boxes are intersected exactly
(separating axes), so results can differ for boxes within about one cell of touching.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from vla_driving.constants import WAYPOINT_DT_S
from vla_driving.evaluation.geometry import (
    BOX_FIELDS, fixed_heading_poses, interpolate_poses, plan_poses, step_overlaps)

HORIZONS_S = (1.0, 2.0, 3.0)
L2_CONVENTIONS = ("uniad", "stp3")
COLLISION_CONVENTIONS = ("uniad", "vad", "swept")
CONVENTIONS = L2_CONVENTIONS
# highway-env's vehicle footprint (Vehicle.LENGTH, Vehicle.WIDTH), the ego of our simulator.
EGO_LENGTH_M = 5.0
EGO_WIDTH_M = 2.0
# The nuScenes ego footprint of UniAD / ST-P3 / VAD (`self.H = 4.084`, `self.W = 1.85`), its
# centre 0.5 m ahead of the planned point (`pts = [[-H/2 + 0.5, W/2], ...]`).
NUSCENES_EGO_LENGTH_M = 4.084
NUSCENES_EGO_WIDTH_M = 1.85
NUSCENES_EGO_FORWARD_OFFSET_M = 0.5
SWEPT_SUBSTEPS = 5
VEHICLE_CATEGORIES = ("car", "truck", "bus", "trailer", "construction_vehicle", "motorcycle",
                      "bicycle", "vehicle")
PEDESTRIAN_CATEGORIES = ("pedestrian",)
# Which ground-truth categories each convention collides with (None: every box).
COLLISION_CATEGORIES = {"uniad": VEHICLE_CATEGORIES,
                        "vad": VEHICLE_CATEGORIES + PEDESTRIAN_CATEGORIES,
                        "swept": None}


def horizon_step(horizon_s: float, dt_s: float = WAYPOINT_DT_S) -> int:
    """0-based waypoint index of a horizon (1.0 s -> 1 with 0.5 s steps)."""
    step = round(horizon_s / dt_s) - 1
    if step < 0 or not np.isclose((step + 1) * dt_s, horizon_s):
        raise ValueError(f"horizon {horizon_s} s is not a multiple of the {dt_s} s waypoint step")
    return step


def _horizons(per_step: np.ndarray, horizons_s: Sequence[float], dt_s: float, mean_up_to: bool):
    per_step = np.asarray(per_step, dtype=np.float64)
    out: dict[str, float] = {}
    for h in horizons_s:
        k = horizon_step(h, dt_s)
        if k >= len(per_step):
            raise ValueError(f"horizon {h} s needs {k + 1} steps, the table has {len(per_step)}")
        out[f"{h:g}s"] = float(np.mean(per_step[: k + 1]) if mean_up_to else per_step[k])
    out["avg"] = float(np.mean(list(out.values()))) if out else float("nan")
    return out


def at_step(per_step, horizons_s: Sequence[float] = HORIZONS_S, dt_s: float = WAYPOINT_DT_S):
    """{"1s": v, "2s": v, "3s": v, "avg": mean of those}: the per-step value of each horizon's
    own step (UniAD's reading of a per-step table)."""
    return _horizons(per_step, horizons_s, dt_s, mean_up_to=False)


def up_to(per_step, horizons_s: Sequence[float] = HORIZONS_S, dt_s: float = WAYPOINT_DT_S):
    """The mean of the per-step values over all steps up to each horizon (ST-P3's reading)."""
    return _horizons(per_step, horizons_s, dt_s, mean_up_to=True)


def by_convention(per_step: np.ndarray, horizons_s: Sequence[float] = HORIZONS_S,
                  dt_s: float = WAYPOINT_DT_S) -> dict[str, dict[str, float]]:
    """Both readings of one per-step table: {"uniad": at_step, "stp3": up_to}."""
    return {"uniad": at_step(per_step, horizons_s, dt_s), "stp3": up_to(per_step, horizons_s, dt_s)}


def _as_batch(trajs, name: str) -> np.ndarray:
    arr = np.asarray(trajs, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[2] != 2:
        raise ValueError(f"{name}: expected (N, S, 2) waypoints, got shape {arr.shape}")
    return arr


def _valid_mask(valid, shape: tuple[int, int]) -> np.ndarray:
    if valid is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(valid, dtype=bool)
    if mask.shape != shape:
        raise ValueError(f"valid mask {mask.shape} does not match the waypoints {shape}")
    return mask


def l2_distances(pred, true) -> np.ndarray:
    """(N, S) L2 distance (m) of every predicted waypoint to its ground truth."""
    pred, true = _as_batch(pred, "pred"), _as_batch(true, "true")
    if pred.shape != true.shape:
        raise ValueError(f"pred {pred.shape} and true {true.shape} differ")
    return np.linalg.norm(pred - true, axis=-1)


def l2_per_step(pred, true, valid=None) -> np.ndarray:
    """Mean L2 distance (m) per waypoint step over the samples that have that step."""
    dist = l2_distances(pred, true)
    mask = _valid_mask(valid, dist.shape)
    counts = mask.sum(axis=0)
    sums = np.where(mask, dist, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def l2_metrics(pred, true, valid=None, horizons_s: Sequence[float] = HORIZONS_S) -> dict:
    """L2 (m) under both conventions; `valid` (N, S) marks the steps that have ground truth.

    {"uniad": {"1s", "2s", "3s", "avg"}, "stp3": {...}, "per_step": {convention: [S values]},
     "samples": {convention: samples counted}}.
    """
    dist = l2_distances(pred, true)
    mask = _valid_mask(valid, dist.shape)
    n, steps = dist.shape
    # UniAD: sqrt(sum(diff^2 * mask)) summed over samples, divided by all N.
    uniad = (np.where(mask, dist, 0.0).sum(axis=0) / n) if n else np.full(steps, np.nan)
    complete = mask.all(axis=1)
    stp3 = dist[complete].mean(axis=0) if complete.any() else np.full(steps, np.nan)
    return {"uniad": at_step(uniad, horizons_s), "stp3": up_to(stp3, horizons_s),
            "per_step": {"uniad": uniad.tolist(), "stp3": stp3.tolist()},
            "samples": {"uniad": int(n), "stp3": int(complete.sum())}}


def _agent_table(agent_boxes, steps: int) -> np.ndarray:
    agents = np.asarray(agent_boxes, dtype=np.float64)
    if agents.ndim != 3 or agents.shape[0] != steps or agents.shape[2] != BOX_FIELDS:
        raise ValueError(f"agent boxes must be ({steps}, A, {BOX_FIELDS}), got {agents.shape}")
    return agents


def box_hits(poses: np.ndarray, agent_boxes, length: float, width: float,
             keep: np.ndarray | None = None) -> np.ndarray:
    """(S,) whether a `length` x `width` box at each pose (S, 3) overlaps an agent box of the
    same step; `keep` (A,) selects the agents that count (NaN rows are absent agents)."""
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    agents = _agent_table(agent_boxes, len(poses))
    overlaps = step_overlaps(poses[:, None, :], length, width, agents)
    if keep is not None:
        overlaps &= np.asarray(keep, dtype=bool)[None, :]
    return overlaps.any(axis=1)


def nuscenes_box_hits(plan, agent_boxes, keep: np.ndarray | None = None) -> np.ndarray:
    """(S,) collisions of the UniAD / ST-P3 / VAD ego box placed along `plan` (S, 2)."""
    poses = fixed_heading_poses(plan, NUSCENES_EGO_FORWARD_OFFSET_M)
    return box_hits(poses, agent_boxes, NUSCENES_EGO_LENGTH_M, NUSCENES_EGO_WIDTH_M, keep)


def _swept_poses(plan, substeps: int) -> np.ndarray:
    poses = plan_poses(plan)
    starts = np.vstack([np.zeros((1, 3)), poses[:-1]])
    return np.stack([interpolate_poses(a, b, substeps) for a, b in zip(starts, poses)])


def collision_steps(plan, agent_boxes, ego_length: float = EGO_LENGTH_M,
                    ego_width: float = EGO_WIDTH_M, substeps: int = 1) -> np.ndarray:
    """(S,) whether the ego box placed along `plan` (S, 2), turned to the direction of travel,
    hits a ground-truth agent box (the `swept` convention's physical check).

    `agent_boxes` is (S, A, 5): every agent's box (x, y, yaw, length, width) at each future step
    in the same ego frame; rows with NaN are absent agents. With `substeps` > 1 the ego box is
    swept: also checked at poses interpolated between waypoints (against step k's agents).
    """
    if substeps < 1:
        raise ValueError(f"substeps must be >= 1, got {substeps}")
    poses = _swept_poses(plan, substeps)
    agents = _agent_table(agent_boxes, len(poses))
    return step_overlaps(poses, ego_length, ego_width, agents).any(axis=1)


def category_mask(categories: Sequence[str] | None, n_agents: int,
                  allowed: Sequence[str] | None) -> np.ndarray:
    """(A,) agents whose category is in `allowed` (None: all). Without categories every agent
    counts as a vehicle (data that does not say what an agent is)."""
    if allowed is None:
        return np.ones(n_agents, dtype=bool)
    if categories is None:
        return np.ones(n_agents, dtype=bool) if set(VEHICLE_CATEGORIES) & set(allowed) \
            else np.zeros(n_agents, dtype=bool)
    if len(categories) != n_agents:
        raise ValueError(f"{len(categories)} categories for {n_agents} agents")
    return np.array([c in allowed for c in categories], dtype=bool)


def sample_collisions(plan, agent_boxes, true_plan=None, valid=None, categories=None,
                      swept_substeps: int = SWEPT_SUBSTEPS) -> dict[str, np.ndarray]:
    """Per-step collision flags (S,) of one sample under each convention, plus the steps each
    published convention excluded because the ground-truth trajectory already collides."""
    plan = np.asarray(plan, dtype=np.float64).reshape(-1, 2)
    steps = len(plan)
    agents = _agent_table(agent_boxes, steps)
    valid = np.ones(steps, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    box = (NUSCENES_EGO_LENGTH_M, NUSCENES_EGO_WIDTH_M)
    planned = step_overlaps(fixed_heading_poses(plan, NUSCENES_EGO_FORWARD_OFFSET_M)[:, None],
                            *box, agents)
    truth = np.zeros_like(planned)
    if true_plan is not None:
        true_xy = np.nan_to_num(np.asarray(true_plan, dtype=np.float64).reshape(-1, 2))
        truth = step_overlaps(fixed_heading_poses(true_xy, NUSCENES_EGO_FORWARD_OFFSET_M)[:, None],
                              *box, agents)
    out: dict[str, np.ndarray] = {}
    for conv in ("uniad", "vad"):
        keep = category_mask(categories, agents.shape[1], COLLISION_CATEGORIES[conv])[None, :]
        hits = (planned & keep).any(axis=1) & valid
        gt = (truth & keep).any(axis=1) & valid
        out[conv] = hits & ~gt
        out[f"{conv}_gt"] = gt
    out["swept"] = collision_steps(plan, agents, substeps=swept_substeps) & valid
    return out


def _batch_collisions(plans: np.ndarray, agents: list[np.ndarray], truths: list, mask: np.ndarray,
                      cats: list, swept_substeps: int) -> dict[str, np.ndarray]:
    """`sample_collisions` of N samples at once, (N, S) per key: the agent tables are padded
    with absent (NaN) agents to one width, so each convention is a single `step_overlaps`."""
    n, steps = plans.shape[:2]
    width = max(a.shape[1] for a in agents)
    table = np.full((n, steps, width, BOX_FIELDS), np.nan)
    keep = {conv: np.zeros((n, width), dtype=bool) for conv in ("uniad", "vad")}
    for i, (a, c) in enumerate(zip(agents, cats)):
        table[i, :, :a.shape[1]] = a
        for conv in keep:
            keep[conv][i, :a.shape[1]] = category_mask(c, a.shape[1], COLLISION_CATEGORIES[conv])
    flat = table.reshape(n * steps, width, BOX_FIELDS)
    box = (NUSCENES_EGO_LENGTH_M, NUSCENES_EGO_WIDTH_M)

    def fixed_box_hits(trajs: np.ndarray) -> np.ndarray:       # (N, S, 2) -> (N, S, A)
        poses = np.stack([fixed_heading_poses(t, NUSCENES_EGO_FORWARD_OFFSET_M) for t in trajs])
        return step_overlaps(poses.reshape(n * steps, 1, 3), *box, flat).reshape(n, steps, width)

    planned = fixed_box_hits(plans)
    truth = np.zeros_like(planned)
    with_truth = np.array([t is not None for t in truths])
    if with_truth.any():
        true_xy = np.stack([np.zeros((steps, 2)) if t is None else
                            np.nan_to_num(np.asarray(t, dtype=np.float64).reshape(-1, 2))
                            for t in truths])
        truth = fixed_box_hits(true_xy) & with_truth[:, None, None]
    out: dict[str, np.ndarray] = {}
    for conv in ("uniad", "vad"):
        hits = (planned & keep[conv][:, None, :]).any(axis=2) & mask
        gt = (truth & keep[conv][:, None, :]).any(axis=2) & mask
        out[conv] = hits & ~gt
        out[f"{conv}_gt"] = gt
    if swept_substeps < 1:
        raise ValueError(f"substeps must be >= 1, got {swept_substeps}")
    swept = np.stack([_swept_poses(p, swept_substeps) for p in plans])     # N, S, P, 3
    hits = step_overlaps(swept.reshape(n * steps, swept_substeps, 3), EGO_LENGTH_M, EGO_WIDTH_M,
                         flat).any(axis=1).reshape(n, steps)
    out["swept"] = hits & mask
    return out


def collision_metrics(plans, agent_boxes_per_sample, true_plans=None, valid=None,
                      categories=None, horizons_s: Sequence[float] = HORIZONS_S,
                      swept_substeps: int = SWEPT_SUBSTEPS) -> dict:
    """Collision rate (0..1) per horizon under `uniad`, `vad` and `swept` (module docstring).

    `true_plans` (N, S, 2): the ground-truth trajectories (for the exclusion; without them
    nothing is excluded and the result says so); `valid` (N, S): steps with ground truth;
    `categories`: per sample, the category of each agent column (None: all vehicles).
    """
    plans = _as_batch(plans, "plans")
    n, steps = plans.shape[:2]
    if n != len(agent_boxes_per_sample):
        raise ValueError(f"{n} plans but {len(agent_boxes_per_sample)} agent tables")
    if n == 0:
        return {**{c: {} for c in COLLISION_CONVENTIONS}, "per_step": {}, "samples": {}}
    mask = _valid_mask(valid, (n, steps))
    truths = [None] * n if true_plans is None else list(true_plans)
    cats = [None] * n if categories is None else list(categories)
    stack = _batch_collisions(plans, [_agent_table(a, steps) for a in agent_boxes_per_sample],
                              truths, mask, cats, swept_substeps)
    complete = mask.all(axis=1)
    nan = np.full(steps, np.nan)
    per_step = {
        "uniad": stack["uniad"].sum(axis=0) / n,
        "vad": stack["vad"][complete].mean(axis=0) if complete.any() else nan,
        "swept": (np.logical_or.accumulate(stack["swept"][complete], axis=1).mean(axis=0)
                  if complete.any() else nan),
    }
    out = {"uniad": at_step(per_step["uniad"], horizons_s),
           "vad": up_to(per_step["vad"], horizons_s),
           "swept": at_step(per_step["swept"], horizons_s),
           "per_step": {k: v.tolist() for k, v in per_step.items()},
           "samples": {"uniad": int(n), "vad": int(complete.sum()), "swept": int(complete.sum())},
           "excluded_steps": {"uniad": int(stack["uniad_gt"].sum()),
                              "vad": int(stack["vad_gt"][complete].sum())}}
    if true_plans is None:
        out["note"] = "no ground-truth trajectories: no step was excluded"
    return out
