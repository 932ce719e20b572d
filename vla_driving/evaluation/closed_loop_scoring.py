"""Closed-loop scoring as the CARLA leaderboard defines it, on per-step simulator ground truth.

Per route i: route completion R_i (percent of the route driven on the road), infraction penalty
P_i = prod_j p_j^(n_j) over infraction types j with the leaderboard's coefficients, and driving
score DS_i = R_i * P_i. Over routes each of the three is the mean of the per-route values
(the leaderboard's global scores). Off-road driving is not a multiplier on the leaderboard: the
distance driven off the road does not count towards route completion, which is what
`RouteTracker` does. Traffic lights and stop signs do not exist in highway-env; their
coefficients are listed for completeness and never triggered here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from vla_driving.evaluation.geometry import boxes_overlap

# CARLA leaderboard infraction coefficients (leaderboard.carla.org/#driving-score).
PENALTIES = {
    "collision_pedestrian": 0.50,
    "collision_vehicle": 0.60,
    "collision_static": 0.65,
    "red_light": 0.70,
    "stop_sign": 0.80,
    "scenario_timeout": 0.70,
    "min_speed": 0.70,
    "yield_emergency_vehicle": 0.70,
}
VEHICLE_CATEGORIES = ("car", "truck")
STATIC_CATEGORIES = ("obstacle",)
PEDESTRIAN_CATEGORIES = ("pedestrian",)
# The ego box grows by this margin when looking for the agent it hit (the simulator flags the
# crash from its own polygons; rounding in the ground truth must not lose the category).
COLLISION_SEARCH_MARGIN_M = 0.5


@dataclass
class RouteLog:
    """What one route produced; everything the scores are computed from."""

    scenario: str
    seed: int
    policy: str
    route_length_m: float
    progress_m: float = 0.0
    off_road_m: float = 0.0
    duration_s: float = 0.0
    infractions: dict[str, int] = field(default_factory=dict)
    instruction: str = ""
    instruction_completed: bool = False
    ended_by: str = ""        # "" (time up), collision, off_road, route_end

    def count(self, kind: str) -> None:
        if kind not in PENALTIES:
            raise ValueError(f"unknown infraction {kind!r}; known: {', '.join(PENALTIES)}")
        self.infractions[kind] = self.infractions.get(kind, 0) + 1


def route_completion(log: RouteLog) -> float:
    """Percent (0..100) of the route driven on the road."""
    if log.route_length_m <= 0:
        raise ValueError(f"route length must be positive, got {log.route_length_m}")
    return 100.0 * min(max(log.progress_m, 0.0) / log.route_length_m, 1.0)


def infraction_penalty(infractions: dict[str, int]) -> float:
    """prod_j p_j ** n_j (1.0 without infractions)."""
    penalty = 1.0
    for kind, n in infractions.items():
        if kind not in PENALTIES:
            raise ValueError(f"unknown infraction {kind!r}; known: {', '.join(PENALTIES)}")
        penalty *= PENALTIES[kind] ** int(n)
    return penalty


def score_route(log: RouteLog) -> dict:
    rc = route_completion(log)
    penalty = infraction_penalty(log.infractions)
    return {"scenario": log.scenario, "seed": log.seed, "policy": log.policy,
            "route_completion": rc, "infraction_penalty": penalty, "driving_score": rc * penalty,
            "infractions": dict(log.infractions), "instruction": log.instruction,
            "instruction_success": bool(log.instruction_completed), "ended_by": log.ended_by,
            "progress_m": log.progress_m, "route_length_m": log.route_length_m,
            "off_road_m": log.off_road_m, "duration_s": log.duration_s}


def aggregate(routes: Sequence[dict]) -> dict:
    """Leaderboard global scores (means over routes) and the instruction success rate."""
    if not routes:
        return {"routes": 0}
    mean = lambda key: float(np.mean([r[key] for r in routes]))  # noqa: E731
    kinds = sorted({k for r in routes for k in r["infractions"]})
    return {"routes": len(routes), "driving_score": mean("driving_score"),
            "route_completion": mean("route_completion"),
            "infraction_penalty": mean("infraction_penalty"),
            "instruction_success_rate": mean("instruction_success"),
            "infractions_per_route": {k: float(np.mean([r["infractions"].get(k, 0)
                                                        for r in routes])) for k in kinds}}


def collision_kind(ego_box, agents: Iterable[dict]) -> str:
    """Infraction type of a collision: the category of the agent whose box touches the ego."""
    grown = np.array(ego_box, dtype=np.float64)
    grown[3:] += 2 * COLLISION_SEARCH_MARGIN_M
    for a in agents:
        other = np.array([[a["x"], a["y"], a["yaw"], a["length"], a["width"]]])
        if boxes_overlap(grown, other)[0]:
            if a.get("category") in STATIC_CATEGORIES:
                return "collision_static"
            if a.get("category") in PEDESTRIAN_CATEGORIES:
                return "collision_pedestrian"
            return "collision_vehicle"
    return "collision_vehicle"


class RouteTracker:
    """Builds a RouteLog from per-step ground truth: call `step(...)` after every sim step."""

    def __init__(self, log: RouteLog):
        self.log = log
        self._last_xy: tuple[float, float] | None = None
        self._in_collision = False
        self.ended = False

    def step(self, time_s: float, x: float, y: float, ego_box, collision: bool, off_road: bool,
             agents: Iterable[dict] = (), instruction_completed: bool = False) -> None:
        if self.ended:
            return
        if self._last_xy is not None:
            dist = math.hypot(x - self._last_xy[0], y - self._last_xy[1])
            if off_road:
                self.log.off_road_m += dist
            else:
                self.log.progress_m += dist
        self._last_xy = (x, y)
        self.log.duration_s = time_s
        if collision and not self._in_collision:          # one infraction per contact event
            self.log.count(collision_kind(ego_box, agents))
        self._in_collision = collision
        if instruction_completed and not self.log.infractions and not off_road:
            self.log.instruction_completed = True

    def end(self, reason: str) -> None:
        if not self.ended:
            self.log.ended_by = reason
            self.ended = True
