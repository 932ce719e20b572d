"""The lead car of a frame from its ground truth: the auxiliary target that makes the visual
tokens keep what braking depends on (docs/training.md, "The vision does not see the lead")."""

from __future__ import annotations

import numpy as np

from vla_driving.sim.frames import world_to_ego

LEAD_RANGE_M = 80.0      # farther, or none: "no lead"
LANE_HALF_WIDTH_M = 2.0  # an agent this close to the ego's axis is in its lane (no lane ids)
CLOSING_SCALE = 10.0     # m/s of closing speed per unit of the target


def nearest_lead(ground_truth: dict | None, pose) -> tuple[float, float] | None:
    """(gap m, speed m/s) of the nearest agent ahead in the ego's lane within LEAD_RANGE_M (by
    lane id when the ground truth has it, else by the lateral offset); None without one.
    `ground_truth`: `GroundTruth.to_dict()`, as the bags record it; `pose`: the ego's (x, y, yaw)."""
    ego_lane = ((ground_truth or {}).get("road") or {}).get("ego_lane_name", "")
    agents = (ground_truth or {}).get("agents", [])
    ego_xy = world_to_ego([[a["x"], a["y"]] for a in agents], *pose) if agents else []
    best = None
    for agent, (ahead, side) in zip(agents, ego_xy):
        same_lane = agent.get("lane") == ego_lane if ego_lane and agent.get("lane") else \
            abs(side) < LANE_HALF_WIDTH_M
        if 0.0 < ahead < LEAD_RANGE_M and same_lane and (best is None or ahead < best[0]):
            best = (float(ahead), float(agent.get("speed", 0.0)))
    return best


def lead_target(ground_truth: dict | None, pose, ego_speed: float) -> np.ndarray:
    """float32 [present, gap / LEAD_RANGE_M, closing speed / CLOSING_SCALE] of `nearest_lead`;
    [0, 1, 0] without one or without ground truth."""
    lead = nearest_lead(ground_truth, pose)
    if lead is None:
        return np.array([0.0, 1.0, 0.0], dtype=np.float32)
    return np.array([1.0, lead[0] / LEAD_RANGE_M, (ego_speed - lead[1]) / CLOSING_SCALE],
                    dtype=np.float32)
