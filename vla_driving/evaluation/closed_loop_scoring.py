"""Closed-loop scoring as the CARLA leaderboard defines it, on per-step simulator ground truth.

Per route i: route completion R_i (percent of the route length driven, capped at 100; off-road
distance counts, as the leaderboard's `RouteCompletionTest` follows the route whatever lane the
car is in), infraction penalty P_i and driving score DS_i = R_i * P_i; over routes each of the
three is the mean of the per-route values (`compute_global_statistics`). P_i depends on the
leaderboard version (`LEADERBOARDS`, default `DEFAULT_LEADERBOARD`), each following
carla-simulator/leaderboard `leaderboard/utils/statistics_manager.py` on its branch:

- 1.0 (`leaderboard-1.0`): P = prod_j p_j^n_j over collisions (pedestrian 0.50, vehicle 0.60,
  static 0.65), red light 0.70, stop sign 0.80; times (1 - off/100) for the off-road event.
- 2.0 (`leaderboard-2.0`): the same fixed coefficients plus scenario timeout 0.70 and failing to
  yield to an emergency vehicle 0.70; each minimum-speed event with value v (%) multiplies by
  1 - 0.3 (1 - v/100) (`PENALTY_PERC_DICT`, 'decreases'); off-road by (1 - off/100)
  ('increases' with value 0).
- 2.1 (`leaderboard-2.1`): P = (1 - off/100) / (1 + sum_j w_j n_j + sum_e 0.4 (1 - v_e/100)),
  weights pedestrian 1.0, vehicle 0.7, static 0.6, red light 0.4, stop 0.25, scenario timeout
  0.4, yield 0.4.

off (%) is scenario_runner's `OutsideRouteLanesTest`: the distance driven outside the driving
lanes over all of it, one event per route however many stretches. The minimum-speed events are
its `MinimumSpeedRouteTest` (2.x only, `checkpoints=4` in `leaderboard/scenarios/
route_scenario.py`): the route is cut into 4 equal checkpoints; over each, the ego's mean speed
against the mean speed of the surrounding traffic (every other vehicle, averaged per tick over
ticks that have one), v = 100 * ego / traffic rounded to 0.01; v < 100 is an event. The last,
partial checkpoint is scored when the route ends beyond 95 % of its length; the test stops when
the route is complete (the leaderboard ends the route there; our routes run on to their
duration, and their other scores keep counting). Here the distance along the route is the
distance driven (highway-env roads follow the route).

Traffic lights and stop signs do not exist in highway-env; their coefficients are listed for
completeness and never triggered here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from vla_driving.evaluation.geometry import boxes_overlap

LEADERBOARDS = ("1.0", "2.0", "2.1")
DEFAULT_LEADERBOARD = "2.0"
# Fixed per-event coefficients of each version ('PENALTY_VALUE_DICT' / the 1.0 constants).
PENALTY_VALUES = {
    "1.0": {"collision_pedestrian": 0.50, "collision_vehicle": 0.60, "collision_static": 0.65,
            "red_light": 0.70, "stop_sign": 0.80},
    "2.0": {"collision_pedestrian": 0.50, "collision_vehicle": 0.60, "collision_static": 0.65,
            "red_light": 0.70, "stop_sign": 0.80, "scenario_timeout": 0.70,
            "yield_emergency_vehicle": 0.70},
}
# 2.1: additive weights, P = 1 / (1 + sum).
INFRACTION_WEIGHTS_2_1 = {"collision_pedestrian": 1.0, "collision_vehicle": 0.7,
                          "collision_static": 0.6, "red_light": 0.4, "stop_sign": 0.25,
                          "scenario_timeout": 0.4, "yield_emergency_vehicle": 0.4}
MIN_SPEED_PENALTY = {"2.0": 0.7, "2.1": 0.4}
MIN_SPEED = "min_speed"
INFRACTIONS = tuple(PENALTY_VALUES["2.0"]) + (MIN_SPEED,)
PENALTIES = {**PENALTY_VALUES["2.0"], MIN_SPEED: MIN_SPEED_PENALTY["2.0"]}   # 2.0, for reference
MIN_SPEED_CHECKPOINTS = 4
MIN_SPEED_FINAL_FRACTION = 0.95
VEHICLE_CATEGORIES = ("car", "truck")
STATIC_CATEGORIES = ("obstacle",)
PEDESTRIAN_CATEGORIES = ("pedestrian",)
# The ego box grows by this margin when looking for the agent it hit (the simulator flags the
# crash from its own polygons; rounding in the ground truth must not lose the category).
COLLISION_SEARCH_MARGIN_M = 0.5


@dataclass
class RouteLog:
    """What one route produced; everything the scores are computed from.

    `progress_m` is the distance driven on the road, `off_road_m` off it; `min_speed_values`
    holds the value (%) of every minimum-speed event (checkpoints under 100 %),
    `min_speed_checkpoints` every checkpoint's value."""

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
    min_speed_values: list[float] = field(default_factory=list)
    min_speed_checkpoints: list[float] = field(default_factory=list)
    comfort: dict[str, float] = field(default_factory=dict)   # `comfort()` of the driven steps

    def count(self, kind: str) -> None:
        if kind == MIN_SPEED:
            raise ValueError("a minimum-speed event carries its value: use min_speed_event()")
        if kind not in INFRACTIONS:
            raise ValueError(f"unknown infraction {kind!r}; known: {', '.join(INFRACTIONS)}")
        self.infractions[kind] = self.infractions.get(kind, 0) + 1

    def min_speed_event(self, value_percent: float) -> None:
        self.min_speed_values.append(float(value_percent))
        self.infractions[MIN_SPEED] = self.infractions.get(MIN_SPEED, 0) + 1

    @property
    def driven_m(self) -> float:
        return max(self.progress_m, 0.0) + max(self.off_road_m, 0.0)

    @property
    def off_road_percent(self) -> float:
        """OutsideRouteLanesTest's value: percent of the driven route that was off the road."""
        return 100.0 * self.off_road_m / self.driven_m if self.driven_m > 0 else 0.0


def route_completion(log: RouteLog) -> float:
    """Percent (0..100) of the route driven, on or off the road."""
    if log.route_length_m <= 0:
        raise ValueError(f"route length must be positive, got {log.route_length_m}")
    return 100.0 * min(log.driven_m / log.route_length_m, 1.0)


def _check_version(leaderboard: str) -> None:
    if leaderboard not in LEADERBOARDS:
        raise ValueError(f"unknown leaderboard {leaderboard!r}; known: {', '.join(LEADERBOARDS)}")


def infraction_penalty(infractions: dict[str, int], min_speed_values: Sequence[float] = (),
                       off_road_percent: float = 0.0,
                       leaderboard: str = DEFAULT_LEADERBOARD) -> float:
    """The route's infraction penalty under `leaderboard` (1.0 without infractions).

    `infractions` counts events by kind; the minimum-speed events are given by their values
    (`min_speed_values`, %), which must match `infractions["min_speed"]` when that is present.
    """
    _check_version(leaderboard)
    for kind in infractions:
        if kind not in INFRACTIONS:
            raise ValueError(f"unknown infraction {kind!r}; known: {', '.join(INFRACTIONS)}")
    n_min_speed = int(infractions.get(MIN_SPEED, len(min_speed_values)))
    if n_min_speed != len(min_speed_values):
        raise ValueError(f"{n_min_speed} minimum-speed events but {len(min_speed_values)} values")
    off_factor = 1.0 - min(max(off_road_percent, 0.0), 100.0) / 100.0
    fixed = {k: int(n) for k, n in infractions.items() if k != MIN_SPEED}
    if leaderboard == "2.1":
        total = sum(INFRACTION_WEIGHTS_2_1[k] * n for k, n in fixed.items())
        total += sum(MIN_SPEED_PENALTY["2.1"] * (1.0 - v / 100.0) for v in min_speed_values)
        return off_factor / (1.0 + total)
    values = PENALTY_VALUES[leaderboard]
    penalty = off_factor
    for kind, n in fixed.items():
        penalty *= values.get(kind, 1.0) ** n      # 1.0 has no timeout / yield events
    if leaderboard == "2.0":
        for v in min_speed_values:
            penalty *= 1.0 - (1.0 - MIN_SPEED_PENALTY["2.0"]) * (1.0 - v / 100.0)
    return penalty


def score_route(log: RouteLog, leaderboard: str = DEFAULT_LEADERBOARD) -> dict:
    """One route's leaderboard scores (and what they were computed from)."""
    rc = route_completion(log)
    min_speed = list(log.min_speed_values) if leaderboard != "1.0" else []
    infractions = dict(log.infractions)
    scored = {k: n for k, n in infractions.items() if leaderboard != "1.0" or k != MIN_SPEED}
    penalty = infraction_penalty(scored, min_speed, log.off_road_percent, leaderboard)
    return {"scenario": log.scenario, "seed": log.seed, "policy": log.policy,
            "leaderboard": leaderboard, "route_completion": rc, "infraction_penalty": penalty,
            "driving_score": max(rc * penalty, 0.0), "infractions": infractions,
            "instruction": log.instruction,
            "instruction_success": bool(log.instruction_completed), "ended_by": log.ended_by,
            "progress_m": log.progress_m, "route_length_m": log.route_length_m,
            "off_road_m": log.off_road_m, "off_road_percent": log.off_road_percent,
            "min_speed_values": list(log.min_speed_values),
            "min_speed_checkpoints": list(log.min_speed_checkpoints),
            "duration_s": log.duration_s, "comfort": dict(log.comfort)}


def rescore(row: dict, leaderboard: str) -> dict:
    """A `score_route` row scored again under another leaderboard version (the row keeps all
    that the scores are computed from)."""
    log = RouteLog(row["scenario"], row["seed"], row["policy"], row["route_length_m"],
                   progress_m=row["progress_m"], off_road_m=row["off_road_m"],
                   duration_s=row.get("duration_s", 0.0),
                   infractions=dict(row["infractions"]), instruction=row.get("instruction", ""),
                   instruction_completed=row.get("instruction_success", False),
                   ended_by=row.get("ended_by", ""),
                   min_speed_values=list(row.get("min_speed_values", [])),
                   min_speed_checkpoints=list(row.get("min_speed_checkpoints", [])),
                   comfort=dict(row.get("comfort", {})))
    return {**row, **score_route(log, leaderboard)}


def by_leaderboard(routes: Sequence[dict]) -> dict[str, dict]:
    """{version: aggregate} of the same routes under every leaderboard version."""
    return {v: aggregate([rescore(r, v) for r in routes]) for v in LEADERBOARDS}


def aggregate(routes: Sequence[dict]) -> dict:
    """Leaderboard global scores (means over routes) and the instruction success rate."""
    if not routes:
        return {"routes": 0}
    mean = lambda key: float(np.mean([r[key] for r in routes]))  # noqa: E731
    kinds = sorted({k for r in routes for k in r["infractions"]})
    versions = sorted({r.get("leaderboard", DEFAULT_LEADERBOARD) for r in routes})
    return {"routes": len(routes), "leaderboard": versions[0] if len(versions) == 1 else versions,
            "driving_score": mean("driving_score"),
            "route_completion": mean("route_completion"),
            "infraction_penalty": mean("infraction_penalty"),
            "instruction_success_rate": mean("instruction_success"),
            "infractions_per_route": {k: float(np.mean([r["infractions"].get(k, 0)
                                                        for r in routes])) for k in kinds},
            **per_km_and_comfort(routes)}


def per_km_and_comfort(routes: Sequence[dict]) -> dict:
    """Collisions per km driven (all routes pooled) and the routes' comfort: the mean of each
    route's p95 |lateral acceleration| and |longitudinal jerk|, and the worst route's."""
    km = sum(r["progress_m"] + r["off_road_m"] for r in routes) / 1000.0
    collisions = sum(n for r in routes for k, n in r["infractions"].items()
                     if k.startswith("collision_"))
    out = {"km_driven": km, "collisions_per_km": collisions / km if km > 0 else None}
    for key in COMFORT_KEYS:
        values = [r["comfort"][key] for r in routes if key in r.get("comfort", {})]
        if values:
            out[f"{key}_mean"], out[f"{key}_max"] = float(np.mean(values)), float(max(values))
    return out


COMFORT_KEYS = ("lateral_accel_p95", "jerk_p95")


def comfort(speeds: Sequence[float], yaw_rates: Sequence[float], dt_s: float) -> dict[str, float]:
    """p95 |lateral acceleration| (v * yaw rate, m/s^2) and p95 |longitudinal jerk| (second
    difference of speed, m/s^3) over a route's steps taken `dt_s` apart."""
    v, w = np.asarray(speeds, dtype=np.float64), np.asarray(yaw_rates, dtype=np.float64)
    out = {}
    if len(v):
        out["lateral_accel_p95"] = float(np.percentile(np.abs(v * w), 95))
    if len(v) >= 3 and dt_s > 0:
        jerk = np.diff(v, 2) / dt_s ** 2
        out["jerk_p95"] = float(np.percentile(np.abs(jerk), 95))
    return out


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


class MinSpeedTest:
    """scenario_runner's `MinimumSpeedRouteTest` on our routes (see the module docstring)."""

    def __init__(self, log: RouteLog, checkpoints: int = MIN_SPEED_CHECKPOINTS):
        self.log = log
        self.checkpoint_m = log.route_length_m / checkpoints
        self._last_m = 0.0
        self._ego = self._traffic = 0.0
        self._points = 0
        self.done = False

    def step(self, driven_m: float, ego_speed: float | None, agents: Sequence[dict]) -> None:
        if self.done:
            return
        if driven_m >= self.log.route_length_m:     # the leaderboard ends the route here
            self.end(driven_m)
            return
        if driven_m - self._last_m > self.checkpoint_m:
            self._checkpoint()
            self._last_m = driven_m
        traffic = [float(a["speed"]) for a in agents
                   if a.get("category") in VEHICLE_CATEGORIES and "speed" in a]
        if ego_speed is not None and traffic:
            self._traffic += float(np.mean(traffic))
            self._ego += abs(float(ego_speed))
            self._points += 1

    def end(self, driven_m: float) -> None:
        if not self.done and driven_m / self.log.route_length_m > MIN_SPEED_FINAL_FRACTION:
            self._checkpoint()
        self.done = True

    def _checkpoint(self) -> None:
        value = 100.0
        if self._points > 0 and self._traffic:
            value = round(self._ego / self._traffic * 100.0, 2)
        self.log.min_speed_checkpoints.append(value)
        if value < 100.0:
            self.log.min_speed_event(value)
        self._ego = self._traffic = 0.0
        self._points = 0


class RouteTracker:
    """Builds a RouteLog from per-step ground truth: call `step(...)` after every sim step."""

    def __init__(self, log: RouteLog):
        self.log = log
        self._last_xy: tuple[float, float] | None = None
        self._in_collision = False
        self._min_speed = MinSpeedTest(log)
        self._speeds: list[float] = []
        self._yaw_rates: list[float] = []
        self._times: list[float] = []
        self.ended = False

    def step(self, time_s: float, x: float, y: float, ego_box, collision: bool, off_road: bool,
             agents: Iterable[dict] = (), instruction_completed: bool = False,
             ego_speed: float | None = None, ego_yaw_rate: float | None = None) -> None:
        """`agents`: the other agents' ground truth (box, category, speed); `ego_speed` (m/s)
        feeds the minimum-speed test (without it no checkpoint has data: 100 %) and, with
        `ego_yaw_rate` (rad/s), the comfort figures."""
        if self.ended:
            return
        if ego_speed is not None and ego_yaw_rate is not None:
            self._speeds.append(float(ego_speed))
            self._yaw_rates.append(float(ego_yaw_rate))
            self._times.append(float(time_s))
        agents = list(agents)
        if self._last_xy is not None:
            dist = math.hypot(x - self._last_xy[0], y - self._last_xy[1])
            if off_road:
                self.log.off_road_m += dist
            else:
                self.log.progress_m += dist
        self._last_xy = (x, y)
        self.log.duration_s = time_s
        self._min_speed.step(self.log.driven_m, ego_speed, agents)
        if collision and not self._in_collision:          # one infraction per contact event
            self.log.count(collision_kind(ego_box, agents))
        self._in_collision = collision
        # (a minimum-speed checkpoint judges a quarter of the route, not a moment: it does
        # not stop an instruction from counting as completed)
        blocking = any(k != MIN_SPEED for k in self.log.infractions)
        if instruction_completed and not blocking and not off_road:
            self.log.instruction_completed = True

    def end(self, reason: str) -> None:
        if not self.ended:
            self._min_speed.end(self.log.driven_m)
            self.log.ended_by = reason
            dt = float(np.median(np.diff(self._times))) if len(self._times) > 1 else 0.0
            self.log.comfort = comfort(self._speeds, self._yaw_rates, dt)
            self.ended = True
