"""Gap acceptance: wait at the stop line while an intersection is busy, yield at a roundabout entry.

highway-env's other vehicles do not yield to the ego, and once inside the junction the expert
must clear it rather than stop across traffic; so the decision is taken before entering. Node
names follow highway-env's maps: intersection approach lanes o*->ir*, junction lanes ir*->il*;
roundabout entries go from a 3-letter node (ses) to a 2-letter ring node (se).
"""

from __future__ import annotations

import numpy as np

DECISION_DISTANCE_M = 20.0     # start checking this far before the stop line
JUNCTION_RANGE_M = 20.0        # vehicles inside the junction this close keep it busy
APPROACH_WINDOW_S = 2.5        # vehicles reaching their stop line sooner keep it busy
STOP_MARGIN_M = 1.0
MOVING_SPEED = 1.0
RING_CLEAR_M = 10.0            # a ring vehicle this close to the entry point blocks it
IMPATIENT_SCALE = 0.5          # after waiting long, only much closer traffic keeps it busy


def on_approach(index) -> bool:
    return index[0].startswith("o") and index[1].startswith("ir")


def roundabout_entry(index) -> bool:
    return len(index[0]) == 3 and len(index[1]) == 2


def ring_busy(ego, impatient: bool = False) -> bool:
    """A vehicle on the ring reaches the ego's entry point soon, or is right at it."""
    scale = IMPATIENT_SCALE if impatient else 1.0
    node = ego.lane_index[1]
    lane = ego.road.network.get_lane(ego.lane_index)
    merge_point = lane.position(lane.length, 0.0)
    for v in ego.road.vehicles:
        index = getattr(v, "lane_index", None)
        if v is ego or not index or len(index[0]) != 2:
            continue
        if np.linalg.norm(v.position - merge_point) < RING_CLEAR_M * scale:
            return True
        if index[1] == node and v.speed > MOVING_SPEED \
                and _time_to_stop_line(v) < APPROACH_WINDOW_S * scale:
            return True
    return False


def in_junction(index) -> bool:
    return index[0].startswith("ir") and index[1].startswith("il")


def _time_to_stop_line(vehicle) -> float:
    lane = vehicle.road.network.get_lane(vehicle.lane_index)
    remaining = lane.length - lane.local_coordinates(vehicle.position)[0]
    return remaining / max(vehicle.speed, 0.1)


def junction_busy(ego, impatient: bool = False) -> bool:
    scale = IMPATIENT_SCALE if impatient else 1.0
    for v in ego.road.vehicles:
        if v is ego or not getattr(v, "lane_index", None):
            continue
        close = np.linalg.norm(v.position - ego.position) < JUNCTION_RANGE_M * scale
        if in_junction(v.lane_index) and close and v.speed > MOVING_SPEED / 2:
            return True
        if on_approach(v.lane_index) and v.lane_index[:2] != ego.lane_index[:2] \
                and v.speed > MOVING_SPEED and _time_to_stop_line(v) < APPROACH_WINDOW_S * scale:
            return True
    return False


def stop_line_accel(ego, comfort_brake: float, max_brake: float,
                    impatient: bool = False) -> float | None:
    """Deceleration to stop at the stop line when the junction is busy, else None (go).

    `impatient` (after a long wait) accepts smaller gaps, as drivers do at a busy junction.
    """
    if on_approach(ego.lane_index):
        busy = junction_busy
    elif roundabout_entry(ego.lane_index):
        busy = ring_busy
    else:
        return None
    lane = ego.road.network.get_lane(ego.lane_index)
    remaining = lane.length - lane.local_coordinates(ego.position)[0] - STOP_MARGIN_M
    if remaining > DECISION_DISTANCE_M or not busy(ego, impatient):
        return None
    if remaining <= 0.5:
        return -max_brake if ego.speed > 0.5 else -ego.speed
    needed = ego.speed**2 / (2 * remaining)
    if needed > max_brake:          # too late to stop: commit and go
        return None
    return -max(min(needed, max_brake), min(comfort_brake, ego.speed))
