"""Ground truth in the ROS frame: other agents (boxes, velocities), lane geometry, road context.

Written to bags as JSON on their own topics (no standard message fits agents with categories or
lanes with line types); the scene graph and the QA are built from exactly these dictionaries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from highway_env.road.lane import LineType
from highway_env.vehicle.kinematics import Vehicle

from vla_driving.sim.frames import xy_to_ros, yaw_to_ros

LANE_SAMPLE_M = 2.0
LONG_LANE_M = 2000.0      # lanes longer than this are sampled only near the ego's start
LANE_WINDOW_BACK_M = 300.0
LANE_WINDOW_AHEAD_M = 1500.0
TRUCK_MIN_LENGTH_M = 7.0
LINE_NAMES = {LineType.NONE: "none", LineType.STRIPED: "dashed",
              LineType.CONTINUOUS: "solid", LineType.CONTINUOUS_LINE: "solid"}


@dataclass
class Agent:
    id: int
    category: str          # car | truck | obstacle
    x: float
    y: float
    yaw: float
    vx: float
    vy: float
    speed: float
    length: float
    width: float
    lane: str = ""


@dataclass
class LaneGeometry:
    lane: str                       # "from>to>id" in the road network
    centerline: list                # [[x, y], ...] ROS frame
    boundaries: list                # two polylines, each [[x, y], ...]
    line_types: list                # two of none | dashed | solid
    width: float


@dataclass
class GroundTruth:
    stamp_ns: int
    road: dict
    agents: list[Agent] = field(default_factory=list)
    collision: bool = False
    off_road: bool = False

    def to_dict(self) -> dict:
        return {"stamp_ns": self.stamp_ns, "road": self.road, "collision": self.collision,
                "off_road": self.off_road, "agents": [asdict(a) for a in self.agents]}


def lane_name(index) -> str:
    return f"{index[0]}>{index[1]}>{index[2]}"


def _sample_range(lane, center_hw) -> np.ndarray:
    if lane.length <= LONG_LANE_M:
        return np.append(np.arange(0.0, lane.length, LANE_SAMPLE_M), lane.length)
    s0 = lane.local_coordinates(center_hw)[0]
    lo, hi = max(0.0, s0 - LANE_WINDOW_BACK_M), min(lane.length, s0 + LANE_WINDOW_AHEAD_M)
    return np.append(np.arange(lo, hi, LANE_SAMPLE_M), hi)


def lane_geometry(road, center_hw) -> list[LaneGeometry]:
    """Sampled centre lines and boundaries of every lane (long lanes near `center_hw` only)."""
    out = []
    for _from, tos in road.network.graph.items():
        for _to, lanes in tos.items():
            for i, lane in enumerate(lanes):
                s = _sample_range(lane, center_hw)
                width = float(lane.width_at(0.0))
                pts = lambda lat: np.round(xy_to_ros(  # noqa: E731
                    np.array([lane.position(si, lat) for si in s])), 3).tolist()
                out.append(LaneGeometry(
                    lane_name((_from, _to, i)), pts(0.0), [pts(-width / 2), pts(width / 2)],
                    [LINE_NAMES.get(t, "none") for t in lane.line_types], width))
    return out


def category(obj) -> str:
    if not isinstance(obj, Vehicle):
        return "obstacle"
    return "truck" if obj.LENGTH >= TRUCK_MIN_LENGTH_M else "car"


def agent_of(obj, agent_id: int) -> Agent:
    x, y = xy_to_ros(obj.position)
    vx, vy = xy_to_ros(getattr(obj, "velocity", np.zeros(2)))
    lane = lane_name(obj.lane_index) if getattr(obj, "lane_index", None) else ""
    return Agent(agent_id, category(obj), round(float(x), 3), round(float(y), 3),
                 round(yaw_to_ros(obj.heading), 4), round(float(vx), 3), round(float(vy), 3),
                 round(float(getattr(obj, "speed", 0.0)), 3), float(obj.LENGTH), float(obj.WIDTH),
                 lane)


def ego_lane_from_left(ego, lanes, lane_id: int) -> int:
    """1 for the leftmost lane (driver's view), counted geometrically."""
    from vla_driving.sim.expert import lateral_left

    own = lateral_left(ego, lanes[lane_id])
    return 1 + sum(lateral_left(ego, lane) > own + 0.5 for lane in lanes)


def road_context(scenario, ego) -> dict:
    """Road elements of the scene graph: type, structure, direction, lanes, facilities."""
    _from, _to, lane_id = ego.lane_index
    lanes = ego.road.network.graph[_from][_to]
    return {"scenario": scenario.name, "type": scenario.road_type,
            "structure": scenario.structure, "direction": scenario.direction,
            "lane_count": len(lanes), "ego_lane": ego_lane_from_left(ego, lanes, lane_id),
            "facilities": list(scenario.facilities), "ego_lane_name": lane_name(ego.lane_index)}
