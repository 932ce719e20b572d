"""Hand-computed CARLA leaderboard scores: route completion, penalties, driving score."""

import pytest

from vla_driving.evaluation.closed_loop_scoring import (
    RouteLog, RouteTracker, aggregate, collision_kind, infraction_penalty, score_route)

EGO = [0.0, 0.0, 0.0, 5.0, 2.0]


def test_driving_score_is_completion_times_penalty():
    log = RouteLog("highway", 0, "model", route_length_m=200.0, progress_m=150.0,
                   infractions={"collision_vehicle": 1, "collision_static": 1})
    s = score_route(log)
    assert s["route_completion"] == pytest.approx(75.0)
    assert s["infraction_penalty"] == pytest.approx(0.60 * 0.65)
    assert s["driving_score"] == pytest.approx(75.0 * 0.39)


def test_penalties_compound_per_infraction():
    assert infraction_penalty({}) == 1.0
    assert infraction_penalty({"collision_vehicle": 2, "red_light": 1}) == \
        pytest.approx(0.6 * 0.6 * 0.7)
    with pytest.raises(ValueError):
        infraction_penalty({"speeding": 1})


def test_completion_is_capped_and_aggregate_means_routes():
    full = score_route(RouteLog("h", 0, "p", 100.0, progress_m=130.0))
    half = score_route(RouteLog("h", 1, "p", 100.0, progress_m=50.0,
                                infractions={"collision_vehicle": 1}, instruction_completed=True))
    assert full["route_completion"] == 100.0
    agg = aggregate([full, half])
    assert agg["driving_score"] == pytest.approx((100.0 + 50.0 * 0.6) / 2)
    assert agg["route_completion"] == pytest.approx(75.0)
    assert agg["instruction_success_rate"] == pytest.approx(0.5)
    assert agg["infractions_per_route"] == {"collision_vehicle": 0.5}


def test_tracker_excludes_off_road_distance_and_counts_contact_events():
    log = RouteLog("h", 0, "p", route_length_m=100.0)
    t = RouteTracker(log)
    car = [{"x": 4.0, "y": 0.0, "yaw": 0.0, "length": 4.0, "width": 2.0, "category": "car"}]
    t.step(0.0, 0.0, 0.0, EGO, False, False)
    t.step(0.1, 10.0, 0.0, EGO, False, False, instruction_completed=True)  # 10 m on road
    t.step(0.2, 20.0, 0.0, EGO, False, True)        # 10 m off road: not progress
    t.step(0.3, 25.0, 0.0, EGO, True, False, car)   # contact starts: one vehicle collision
    t.step(0.4, 26.0, 0.0, EGO, True, False, car)   # same contact: not counted again
    t.end("collision")
    t.step(0.5, 90.0, 0.0, EGO, False, False)       # after the end: ignored
    assert log.progress_m == pytest.approx(16.0)
    assert log.off_road_m == pytest.approx(10.0)
    assert log.infractions == {"collision_vehicle": 1}
    assert log.instruction_completed and log.ended_by == "collision"
    assert score_route(log)["driving_score"] == pytest.approx(16.0 * 0.6)


def test_collision_kind_from_the_touching_agent():
    near_obstacle = {"x": 3.0, "y": 0.0, "yaw": 0.0, "length": 1.0, "width": 1.0,
                     "category": "obstacle"}
    far_car = {"x": 50.0, "y": 0.0, "yaw": 0.0, "length": 5.0, "width": 2.0, "category": "car"}
    assert collision_kind(EGO, [far_car, near_obstacle]) == "collision_static"
    assert collision_kind(EGO, [far_car]) == "collision_vehicle"   # default when none touch
