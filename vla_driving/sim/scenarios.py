"""Scenario registry: which highway-env map, how its traffic is randomised, which commands fit.

Every scenario runs headless. Randomisation draws from the episode's own generator, so a seed
fixes the traffic density, speeds and layout of an episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from vla_driving.sim import commands as C

LONGITUDINAL = (C.KEEP_LANE, C.SPEED_UP, C.SLOW_DOWN, C.STOP)


@dataclass(frozen=True)
class Scenario:
    name: str
    env_id: str
    commands: tuple[str, ...]
    road_type: str          # highway | urban | ramp | roundabout | track
    structure: str          # straight | merge | intersection | roundabout | curves
    direction: str          # one-way | two-way
    facilities: tuple[str, ...]
    randomise: Callable[[np.random.Generator, float], dict]
    cruise_speed: tuple[float, float]   # m/s range of the ego's desired speed


def _highway(rng: np.random.Generator, density: float) -> dict:
    return {"lanes_count": int(rng.integers(2, 5)), "vehicles_count": int(rng.integers(8, 20)),
            "vehicles_density": float(rng.uniform(0.7, 1.5) * max(density, 0.05)),
            "initial_lane_id": None, "ego_spacing": float(rng.uniform(1.5, 2.5))}


def _merge(rng: np.random.Generator, density: float) -> dict:
    return {"lanes_count": int(rng.integers(2, 4)),
            "vehicles_count": int(round(rng.integers(3, 10) * density)),
            "before_merge_length": float(rng.uniform(120, 220)),
            "after_merge_length": float(rng.uniform(150, 300))}


def _intersection(rng: np.random.Generator, density: float) -> dict:
    return {"initial_vehicle_count": int(round(rng.integers(2, 7) * density)),
            "spawn_probability": float(np.clip(rng.uniform(0.05, 0.3) * density, 0.0, 1.0)),
            "destination": None}


def _roundabout(rng: np.random.Generator, density: float) -> dict:
    return {}


def _racetrack(rng: np.random.Generator, density: float) -> dict:
    return {"other_vehicles": int(round(rng.integers(1, 5) * density))}


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("highway", "highway-v0", LONGITUDINAL + (C.CHANGE_LANE_LEFT, C.CHANGE_LANE_RIGHT),
             "highway", "straight", "one-way", (), _highway, (18.0, 25.0)),
    Scenario("merge", "merge-generic-v0",
             LONGITUDINAL + (C.CHANGE_LANE_LEFT, C.CHANGE_LANE_RIGHT),
             "highway", "merge", "one-way", ("on-ramp",), _merge, (20.0, 28.0)),
    Scenario("intersection", "intersection-v0", (C.TURN_LEFT, C.TURN_RIGHT, C.GO_STRAIGHT,
                                                 C.KEEP_LANE, C.SLOW_DOWN, C.STOP),
             "urban", "intersection", "two-way", ("intersection", "priority road"),
             _intersection, (7.0, 10.0)),
    Scenario("roundabout", "roundabout-v0", LONGITUDINAL, "urban", "roundabout", "one-way",
             ("roundabout", "yield at entry"), _roundabout, (7.0, 12.0)),
    Scenario("racetrack", "racetrack-v0",
             LONGITUDINAL + (C.CHANGE_LANE_LEFT, C.CHANGE_LANE_RIGHT),
             "track", "curves", "one-way", (), _racetrack, (8.0, 12.0)),
)}


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return SCENARIOS[name]
