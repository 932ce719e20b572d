"""Shadow expert: IDM (longitudinal) + lane tracking (lateral) steered by a driving command.

It reads the ego's current state, so it labels any state, including states a learned policy
drives into. Lane choice follows the command (MOBIL's safety criterion delays an unsafe lane
change); a constant-velocity conflict check brakes for crossing traffic that IDM cannot see.
All geometry is in highway-env's frame; the returned steering is in the ROS sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from highway_env import utils

from vla_driving.sim import commands as C
from vla_driving.sim.ego import BoundedEgo
from vla_driving.sim.frames import steering_to_ros
from vla_driving.sim.junction import in_junction, on_approach, roundabout_entry, stop_line_accel

SPEED_DELTA = 5.0            # m/s change for speed up / slow down
MIN_TARGET_SPEED = 3.0
COMFORT_BRAKE = 3.0          # m/s^2 for stop / slow down
EMERGENCY_BRAKE = 6.0
TAU_LATERAL = 1.0            # s, lateral offset -> lateral speed
TAU_HEADING = 0.35           # s, heading error -> yaw rate
TAU_PREVIEW = 0.4            # s, look-ahead on the lane heading
MAX_LATERAL_SPEED = 1.2      # m/s towards the target lane centre
COMFORT_LATERAL_ACCEL = 3.0  # m/s^2: the expert slows for curves to stay under it
CURVE_PREVIEW_S = 2.5
CONFLICT_HORIZON_S = 3.0
CONFLICT_RADIUS_M = 4.5
CONFLICT_RANGE_M = 45.0
LANE_DONE_OFFSET_M = 0.4
LANE_DONE_HEADING = 0.06
SPEED_DONE_TOL = 0.7
STOPPED_SPEED = 0.3
KEEP_LANE_DONE_S = 6.0
PATIENCE_S = 4.0
RESUMED_SPEED = 3.0          # m/s: driving on again ends the impatience
TURN_ANGLE = np.pi / 4
SAME_DIRECTION = np.pi / 6    # same-direction traffic is IDM's job, not the conflict check
LEFT, RIGHT = 1, -1


def adjacent_lanes(network, index) -> list:
    _from, _to, _id = index
    count = len(network.graph[_from][_to])
    return [(_from, _to, i) for i in (_id - 1, _id + 1) if 0 <= i < count]


def lateral_left(vehicle, lane) -> float:
    """Offset (m) of `lane`'s centre from the vehicle, positive to the driver's left (ROS)."""
    s = lane.local_coordinates(vehicle.position)[0]
    d = lane.position(s, 0.0) - vehicle.position
    # highway-env's y points down: the driver's left is -90 degrees from the heading
    return float(d[0] * np.sin(vehicle.heading) - d[1] * np.cos(vehicle.heading))


def _curvature(lane, s: np.ndarray) -> float:
    """Largest heading change per metre of `lane` sampled at `s`."""
    if s[-1] - s[0] < 1e-3:
        return 0.0
    headings = np.unwrap([lane.heading_at(si) for si in s])
    return float(np.max(np.abs(np.diff(headings))) / (s[1] - s[0]))


@dataclass
class _Intent:
    command: str
    started_s: float
    target_speed: float
    target_lane: tuple | None = None
    destination: str | None = None


class ShadowExpert:
    """Commanded IDM/MOBIL-style driver for one `BoundedEgo`."""

    def __init__(self, ego: BoundedEgo, cruise_speed: float, wheelbase_m: float):
        self.ego = ego
        self.cruise_speed = cruise_speed
        self.wheelbase = wheelbase_m
        self.intent: _Intent | None = None
        self._stopped_since: float | None = None

    # ---- command bookkeeping -------------------------------------------------------------
    def feasible(self, command: str) -> bool:
        if command in C.LANE_CHANGES:
            return self._side_lane(LEFT if command == C.CHANGE_LANE_LEFT else RIGHT) is not None
        if command in C.TURNS:
            return self._turn_destination(command) is not None
        return command in C.COMMANDS

    def begin(self, command: str, now_s: float) -> None:
        ego = self.ego
        lane = ego.lane_index
        intent = _Intent(command, now_s, self.cruise_speed, target_lane=lane)
        if command == C.SPEED_UP:
            intent.target_speed = ego.speed + SPEED_DELTA
        elif command == C.SLOW_DOWN:
            intent.target_speed = max(MIN_TARGET_SPEED, ego.speed - SPEED_DELTA)
        elif command == C.STOP:
            intent.target_speed = 0.0
        elif command in C.LANE_CHANGES:
            side = LEFT if command == C.CHANGE_LANE_LEFT else RIGHT
            intent.target_lane = self._side_lane(side) or lane
        elif command in C.TURNS:
            intent.destination = self._turn_destination(command)
            if intent.destination is not None:
                ego.plan_route_to(intent.destination)
        ego.target_lane_index = intent.target_lane
        self.intent = intent

    def _ensure(self, command: str, now_s: float) -> _Intent:
        if self.intent is None or self.intent.command != command:
            self.begin(command, now_s)
        return self.intent

    # ---- the action ----------------------------------------------------------------------
    def action(self, command: str, now_s: float) -> tuple[float, float]:
        """(acceleration m/s^2, steering angle rad in the ROS sign) for `command` now."""
        intent = self._ensure(command, now_s)
        ego = self.ego
        ego.follow_road()
        lane_target = ego.target_lane_index
        if intent.command in C.LANE_CHANGES and ego.lane_index != lane_target:
            if not self._lane_change_safe(lane_target):
                lane_target = ego.lane_index
        ego.target_speed = min(intent.target_speed, self._curve_speed(lane_target))
        accel = self._longitudinal(intent, lane_target, now_s)
        steer = self._steering(lane_target)
        return float(accel), steering_to_ros(steer)

    def completed(self, command: str, now_s: float) -> bool:
        intent = self._ensure(command, now_s)
        ego = self.ego
        if command in C.LANE_CHANGES:
            lane = ego.road.network.get_lane(ego.target_lane_index)
            s, lat = lane.local_coordinates(ego.position)
            return (ego.lane_index == ego.target_lane_index
                    and abs(lat) < LANE_DONE_OFFSET_M
                    and abs(utils.wrap_to_pi(lane.heading_at(s) - ego.heading)) < LANE_DONE_HEADING)
        if command in (C.SPEED_UP, C.SLOW_DOWN):
            return abs(ego.speed - self._capped(intent.target_speed)) < SPEED_DONE_TOL
        if command == C.STOP:
            return ego.speed < STOPPED_SPEED
        if command in C.TURNS:
            return bool(ego.route) and ego.lane_index[:2] == ego.route[-1][:2]
        return now_s - intent.started_s >= KEEP_LANE_DONE_S

    def lane_error(self) -> tuple[float, float]:
        """(offset m, heading error rad) of the ego from the lane it should be on (its target
        lane): how far a policy driving the car has strayed from where the expert would be."""
        ego = self.ego
        lane = ego.road.network.get_lane(ego.target_lane_index or ego.lane_index)
        s, lat = lane.local_coordinates(ego.position)
        return float(lat), float(utils.wrap_to_pi(ego.heading - lane.heading_at(s)))

    def _capped(self, speed: float) -> float:
        lane = self.ego.lane
        if lane is not None and lane.speed_limit is not None:
            return min(speed, lane.speed_limit)
        return speed

    def _impatient(self, now_s: float) -> bool:
        """Stopped for longer than PATIENCE_S (at a stop line); lasts until it drives on."""
        if self.ego.speed > RESUMED_SPEED:
            self._stopped_since = None
        elif self.ego.speed <= STOPPED_SPEED and self._stopped_since is None:
            self._stopped_since = now_s
        return self._stopped_since is not None and now_s - self._stopped_since > PATIENCE_S

    def _longitudinal(self, intent: _Intent, lane_target, now_s: float) -> float:
        ego = self.ego
        front, rear = ego.road.neighbour_vehicles(ego, ego.lane_index)
        if intent.command == C.STOP:
            accel = -min(COMFORT_BRAKE, ego.speed / 1.0)
            if front is not None:
                ego.target_speed = max(ego.speed, 1.0)
                accel = min(accel, ego.acceleration(ego, front, rear))
        else:
            accel = ego.acceleration(ego, front, rear)
            if lane_target != ego.lane_index:
                front_t, rear_t = ego.road.neighbour_vehicles(ego, lane_target)
                accel = min(accel, ego.acceleration(ego, front_t, rear_t))
        gap_acceptance = in_junction(ego.lane_index) or on_approach(ego.lane_index) \
            or roundabout_entry(ego.lane_index)
        if not gap_acceptance and self._conflict_ahead():
            accel = min(accel, -EMERGENCY_BRAKE if ego.speed > 2.0 else -ego.speed)
        wait = stop_line_accel(ego, COMFORT_BRAKE, EMERGENCY_BRAKE, self._impatient(now_s))
        if wait is not None:
            accel = min(accel, wait)
        return max(accel, -EMERGENCY_BRAKE)

    def _curve_speed(self, lane_index) -> float:
        """Highest speed that keeps the lane's curvature ahead under the comfort limit."""
        ego = self.ego
        net = ego.road.network
        lane = net.get_lane(lane_index)
        s = lane.local_coordinates(ego.position)[0]
        preview = max(ego.speed, 5.0) * CURVE_PREVIEW_S
        lanes = [(lane, s + np.linspace(0.0, preview, 8))]
        following = [r for r in (ego.route or []) if r[0] == lane_index[1]]
        if following and following[0][1] in net.graph.get(lane_index[1], {}):
            nxt = net.get_lane((lane_index[1], following[0][1], 0))   # the road the route takes
            lanes.append((nxt, np.linspace(0.0, max(preview - (lane.length - s), 0.0), 8)))
        curvature = max(_curvature(ln, ss) for ln, ss in lanes)
        return float(np.sqrt(COMFORT_LATERAL_ACCEL / max(curvature, 1e-4)))

    def _steering(self, lane_index) -> float:
        """Lateral offset -> heading reference -> yaw rate -> bicycle steering (hw sign)."""
        ego = self.ego
        lane = ego.road.network.get_lane(lane_index)
        s, lat = lane.local_coordinates(ego.position)
        speed = max(ego.speed, 0.5)
        lane_heading = lane.heading_at(s + ego.speed * TAU_PREVIEW)
        lateral_speed = np.clip(-lat / TAU_LATERAL, -MAX_LATERAL_SPEED, MAX_LATERAL_SPEED)
        heading_ref = lane_heading + np.arcsin(np.clip(lateral_speed / speed, -0.5, 0.5))
        yaw_rate = utils.wrap_to_pi(heading_ref - ego.heading) / TAU_HEADING
        return float(np.arctan(self.wheelbase * yaw_rate / speed))

    # ---- helpers -------------------------------------------------------------------------
    def _side_lane(self, side: int):
        """The adjacent lane on the driver's `side` (+1 left, -1 right), judged geometrically:
        highway-env lane ids do not run left to right on every map."""
        ego = self.ego
        for index in adjacent_lanes(ego.road.network, ego.lane_index):
            lane = ego.road.network.get_lane(index)
            if lane.is_reachable_from(ego.position) and \
                    np.sign(lateral_left(ego, lane)) == side:
                return index
        return None

    def _lane_change_safe(self, lane_index) -> bool:
        ego = self.ego
        preceding, following = ego.road.neighbour_vehicles(ego, lane_index)
        if following is None:
            return True
        imposed = ego.acceleration(ego_vehicle=following, front_vehicle=ego)
        return imposed >= -ego.LANE_CHANGE_MAX_BRAKING_IMPOSED

    def _turn_destination(self, command: str) -> str | None:
        """Exit node whose route turns the way `command` says, before entering a junction."""
        ego = self.ego
        net = ego.road.network
        start = ego.lane_index[1]
        if not start.startswith("ir"):
            return None
        heading0 = net.get_lane(ego.lane_index).heading_at(0)
        for dest in sorted(n for n in net.graph if n.startswith("o")):
            try:
                path = net.shortest_path(start, dest)
            except KeyError:
                continue
            if len(path) < 2:
                continue
            last = net.get_lane((path[-2], path[-1], 0))
            turn = -utils.wrap_to_pi(last.heading_at(last.length) - heading0)   # ROS sign
            kind = C.TURN_LEFT if turn > TURN_ANGLE else C.TURN_RIGHT if turn < -TURN_ANGLE \
                else C.GO_STRAIGHT
            if kind == command and abs(turn) < np.pi * 0.9:
                return dest
        return None

    def _conflict_ahead(self) -> bool:
        """True when a nearby vehicle's constant-velocity path meets ours within the horizon."""
        ego = self.ego
        others = [v for v in ego.road.vehicles if v is not ego
                  and np.linalg.norm(v.position - ego.position) < CONFLICT_RANGE_M
                  and np.dot(v.position - ego.position, ego.direction) > 0
                  and abs(utils.wrap_to_pi(v.heading - ego.heading)) > SAME_DIRECTION]
        if not others:
            return False
        t = np.linspace(0.5, CONFLICT_HORIZON_S, 6)[:, None, None]
        p_ego = ego.position[None, None, :] + t * ego.velocity[None, None, :]
        pos = np.array([v.position for v in others])[None]
        vel = np.array([v.velocity for v in others])[None]
        dist = np.linalg.norm(pos + t * vel - p_ego, axis=-1)
        return bool(np.any(dist < CONFLICT_RADIUS_M))
