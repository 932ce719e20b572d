"""Scene graph of one frame from the simulator ground truth (Sce2DriveX's elements).

Road: type, structure, direction, lane count, ego lane; traffic facilities; participants with
category, status, size bucket, relative location, distance and orientation, all relative to the
ego pose. Bags without ground truth have no scene graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RANGE_M = 50.0
MAX_PARTICIPANTS = 8
STOPPED_SPEED = 0.5
SAME_SPEED_TOL = 1.0
SAME_DIRECTION_RAD = np.radians(30)
OPPOSITE_RAD = np.radians(150)
SIZE_BUCKETS = ((4.0, "small"), (7.0, "medium"), (float("inf"), "large"))
NEAR_M, MID_M = 15.0, 35.0
SECTORS = ("front", "front-left", "left", "rear-left", "rear", "rear-right", "right",
           "front-right")
LOCATION_TEXT = {"front": "ahead", "front-left": "ahead on the left", "left": "on the left",
                 "rear-left": "behind on the left", "rear": "behind", "rear-right":
                 "behind on the right", "right": "on the right", "front-right": "ahead on the right"}
RELATIVE_TEXT = {"faster": "faster than the ego vehicle", "slower": "slower than the ego vehicle",
                 "same speed": "at the same speed as the ego vehicle"}


def article(word: str) -> str:
    vowel = word[:1].lower() in "aeiou" and not word.lower().startswith(("one", "uni"))
    return ("an " if vowel else "a ") + word


@dataclass
class Participant:
    category: str
    status: str            # moving | stopped
    relative_speed: str    # faster | slower | same speed (than the ego)
    size: str              # small | medium | large
    location: str          # one of SECTORS
    distance_m: float
    distance_bucket: str   # near | mid-range | far
    orientation: str       # same direction | opposite direction | crossing
    in_ego_lane: bool


@dataclass
class SceneGraph:
    road_type: str
    structure: str
    direction: str
    lane_count: int
    ego_lane: int           # 1 = leftmost
    facilities: list
    ego_speed: float
    participants: list = field(default_factory=list)

    @property
    def ego_lane_name(self) -> str:
        if self.lane_count == 1:
            return "the only lane"
        if self.ego_lane == 1:
            return "the leftmost lane"
        if self.ego_lane == self.lane_count:
            return "the rightmost lane"
        return "a middle lane"


def _sector(x: float, y: float) -> str:
    angle = np.degrees(np.arctan2(y, x)) % 360.0
    return SECTORS[int(((angle + 22.5) % 360.0) // 45.0)]


def _size(length: float) -> str:
    return next(name for limit, name in SIZE_BUCKETS if length < limit)


def _participant(agent: dict, pose, ego_speed: float, ego_lane: str) -> Participant:
    x0, y0, yaw0 = pose
    dx, dy = agent["x"] - x0, agent["y"] - y0
    c, s = np.cos(yaw0), np.sin(yaw0)
    ex, ey = c * dx + s * dy, -s * dx + c * dy
    dist = float(np.hypot(ex, ey))
    dyaw = abs((agent["yaw"] - yaw0 + np.pi) % (2 * np.pi) - np.pi)
    orient = "same direction" if dyaw < SAME_DIRECTION_RAD else \
        "opposite direction" if dyaw > OPPOSITE_RAD else "crossing"
    speed = float(agent.get("speed", 0.0))
    rel = "same speed" if abs(speed - ego_speed) < SAME_SPEED_TOL else \
        "faster" if speed > ego_speed else "slower"
    return Participant(agent.get("category", "car"),
                       "stopped" if speed < STOPPED_SPEED else "moving", rel,
                       _size(float(agent.get("length", 5.0))), _sector(ex, ey), round(dist, 1),
                       "near" if dist < NEAR_M else "mid-range" if dist < MID_M else "far",
                       orient, bool(ego_lane) and agent.get("lane") == ego_lane)


def scene_graph(ground_truth: dict | None, pose, ego_speed: float) -> SceneGraph | None:
    """The frame's scene graph, or None without ground truth."""
    if not ground_truth or "road" not in ground_truth:
        return None
    road = ground_truth["road"]
    parts = [_participant(a, pose, ego_speed, road.get("ego_lane_name", ""))
             for a in ground_truth.get("agents", [])]
    parts = sorted((p for p in parts if p.distance_m <= RANGE_M), key=lambda p: p.distance_m)
    return SceneGraph(road.get("type", "road"), road.get("structure", "unknown"),
                      road.get("direction", "one-way"), int(road.get("lane_count", 1)),
                      int(road.get("ego_lane", 1)), list(road.get("facilities", [])),
                      float(ego_speed), parts[:MAX_PARTICIPANTS])
