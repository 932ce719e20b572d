"""Hand-computed CARLA leaderboard scores (1.0, 2.0, 2.1): route completion, penalties with
minimum-speed events and several off-road stretches, driving score."""

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
    with pytest.raises(ValueError):
        infraction_penalty({"min_speed": 2}, [90.0])     # two events, one value


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


def test_tracker_counts_off_road_as_a_penalty_and_contact_events_once():
    log = RouteLog("h", 0, "p", route_length_m=100.0)
    t = RouteTracker(log)
    car = [{"x": 4.0, "y": 0.0, "yaw": 0.0, "length": 4.0, "width": 2.0, "category": "car"}]
    t.step(0.0, 0.0, 0.0, EGO, False, False)
    t.step(0.1, 10.0, 0.0, EGO, False, False, instruction_completed=True)  # 10 m on road
    t.step(0.2, 20.0, 0.0, EGO, False, True)        # 10 m off road
    t.step(0.3, 25.0, 0.0, EGO, True, False, car)   # contact starts: one vehicle collision
    t.step(0.4, 26.0, 0.0, EGO, True, False, car)   # same contact: not counted again
    t.end("collision")
    t.step(0.5, 90.0, 0.0, EGO, False, False)       # after the end: ignored
    assert log.progress_m == pytest.approx(16.0)
    assert log.off_road_m == pytest.approx(10.0)
    assert log.infractions == {"collision_vehicle": 1}
    assert log.instruction_completed and log.ended_by == "collision"
    s = score_route(log)
    # route completion counts the 26 m driven; off road is 10 / 26 of it, a penalty factor
    assert s["route_completion"] == pytest.approx(26.0)
    assert s["off_road_percent"] == pytest.approx(100 * 10 / 26)
    assert s["infraction_penalty"] == pytest.approx(0.6 * 16 / 26)
    assert s["driving_score"] == pytest.approx(16.0 * 0.6)


def test_several_off_road_stretches_make_one_factor():
    log = RouteLog("h", 0, "p", route_length_m=100.0)
    t = RouteTracker(log)
    xs = [0, 20, 30, 60, 65, 80, 110]               # on 20, off 10, on 30, off 5, on 15, on 30
    off = [False, False, True, False, True, False, False]
    for i, (x, o) in enumerate(zip(xs, off)):
        t.step(0.1 * i, float(x), 0.0, EGO, False, o)
    t.end("time")
    assert log.off_road_m == pytest.approx(15.0) and log.progress_m == pytest.approx(95.0)
    for version in ("1.0", "2.0", "2.1"):
        s = score_route(log, version)
        assert s["route_completion"] == 100.0             # capped; off road still counts
        assert s["infraction_penalty"] == pytest.approx(1 - 15 / 110)
        assert s["driving_score"] == pytest.approx(100 * (1 - 15 / 110))


def test_the_three_leaderboards_on_one_route():
    log = RouteLog("h", 0, "p", route_length_m=200.0, progress_m=150.0, off_road_m=50.0,
                   infractions={"collision_vehicle": 1, "collision_static": 1})
    log.min_speed_event(80.0)
    log.min_speed_event(50.0)
    assert log.infractions["min_speed"] == 2
    # 1.0: no minimum-speed test; off road 25 % of the driven route
    assert score_route(log, "1.0")["infraction_penalty"] == pytest.approx(0.6 * 0.65 * 0.75)
    # 2.0: each event x (1 - 0.3 (1 - v/100))
    p20 = 0.6 * 0.65 * (1 - 0.3 * 0.2) * (1 - 0.3 * 0.5) * 0.75
    assert score_route(log, "2.0")["infraction_penalty"] == pytest.approx(p20)
    assert score_route(log)["driving_score"] == pytest.approx(100.0 * p20)    # 2.0 by default
    # 2.1: (1 - off) / (1 + 0.7 + 0.6 + 0.4 * 0.2 + 0.4 * 0.5)
    assert score_route(log, "2.1")["infraction_penalty"] == pytest.approx(0.75 / 2.58)
    with pytest.raises(ValueError):
        score_route(log, "3.0")
    with pytest.raises(ValueError):
        log.count("min_speed")                # an event needs its value


def _traffic(speeds):
    return [{"x": 500.0 + 10 * i, "y": 0.0, "yaw": 0.0, "length": 4.0, "width": 2.0,
             "category": "car", "speed": v} for i, v in enumerate(speeds)] + [
        {"x": 900.0, "y": 0.0, "yaw": 0.0, "length": 1.0, "width": 1.0,
         "category": "obstacle", "speed": 0.0}]          # never part of the traffic


def test_min_speed_checkpoints_against_the_surrounding_traffic():
    log = RouteLog("h", 0, "p", route_length_m=100.0)     # 4 checkpoints of 25 m
    t = RouteTracker(log)
    for second in range(21):                              # the ego drives 5 m/s, 1 s steps
        traffic = ([10.0] if second < 6 else [5.0] if second < 12 else [4.0] if second < 18
                   else [8.0, 12.0])
        t.step(float(second), 5.0 * second, 0.0, EGO, False, False, _traffic(traffic),
               ego_speed=5.0)
    t.end("time")                                         # 100 m > 95 %: the last one counts
    # checkpoint 1 closes at 30 m (t = 6 s, over the ticks 0..5 s): 5 / 10 = 50 %; then
    # 5 / 5 = 100 %, 5 / 4 = 125 % (no event), 5 / mean(8, 12) = 50 %
    assert log.min_speed_checkpoints == [50.0, 100.0, 125.0, 50.0]
    assert log.min_speed_values == [50.0, 50.0]
    s = score_route(log)
    assert s["route_completion"] == 100.0
    assert s["infraction_penalty"] == pytest.approx((1 - 0.3 * 0.5) ** 2)
    assert score_route(log, "2.1")["infraction_penalty"] == pytest.approx(1 / (1 + 0.4))
    assert score_route(log, "1.0")["infraction_penalty"] == 1.0


def test_min_speed_last_checkpoint_only_near_the_route_end_and_no_traffic_is_100():
    log = RouteLog("h", 0, "p", route_length_m=100.0)
    t = RouteTracker(log)
    for second in range(11):                              # 50 m of 100: no final checkpoint
        t.step(float(second), 5.0 * second, 0.0, EGO, False, False, _traffic([10.0]),
               ego_speed=5.0)
    t.end("collision")
    assert log.min_speed_checkpoints == [50.0]
    quiet = RouteLog("h", 0, "p", route_length_m=10.0)
    q = RouteTracker(quiet)
    for second in range(4):
        q.step(float(second), 5.0 * second, 0.0, EGO, False, False, _traffic([]), ego_speed=1.0)
    q.end("time")
    assert quiet.min_speed_values == [] and set(quiet.min_speed_checkpoints) == {100.0}


def test_min_speed_events_do_not_block_instruction_success():
    log = RouteLog("h", 0, "p", route_length_m=20.0)
    t = RouteTracker(log)
    for second in range(6):
        t.step(float(second), 5.0 * second, 0.0, EGO, False, False, _traffic([10.0]),
               ego_speed=5.0, instruction_completed=second == 5)
    assert log.min_speed_values and log.instruction_completed


def test_collision_kind_from_the_touching_agent():
    near_obstacle = {"x": 3.0, "y": 0.0, "yaw": 0.0, "length": 1.0, "width": 1.0,
                     "category": "obstacle"}
    far_car = {"x": 50.0, "y": 0.0, "yaw": 0.0, "length": 5.0, "width": 2.0, "category": "car"}
    assert collision_kind(EGO, [far_car, near_obstacle]) == "collision_static"
    assert collision_kind(EGO, [far_car]) == "collision_vehicle"   # default when none touch


def test_a_scored_route_can_be_scored_again_under_each_version():
    from vla_driving.evaluation.closed_loop_scoring import by_leaderboard, rescore
    log = RouteLog("h", 0, "p", route_length_m=200.0, progress_m=150.0, off_road_m=50.0,
                   infractions={"collision_vehicle": 1})
    log.min_speed_event(50.0)
    row = score_route(log, "2.0")
    assert rescore(row, "2.1")["infraction_penalty"] == pytest.approx(
        score_route(log, "2.1")["infraction_penalty"])
    table = by_leaderboard([row, score_route(RouteLog("h", 1, "p", 100.0, progress_m=100.0))])
    assert set(table) == {"1.0", "2.0", "2.1"}
    assert table["1.0"]["driving_score"] == pytest.approx((100 * 0.6 * 0.75 + 100) / 2)
    assert table["2.0"]["driving_score"] == pytest.approx((100 * 0.6 * 0.85 * 0.75 + 100) / 2)


def test_comfort_is_p95_of_lateral_acceleration_and_jerk_by_hand():
    from vla_driving.evaluation.closed_loop_scoring import comfort

    # 21 steps 0.1 s apart: 10 m/s turning at 0.2 rad/s -> 2 m/s^2 lateral, constant speed
    steady = comfort([10.0] * 21, [0.2] * 21, 0.1)
    assert steady["lateral_accel_p95"] == pytest.approx(2.0)
    assert steady["jerk_p95"] == pytest.approx(0.0)
    # one speed kink: v = 10, 10, 11, 12 (accel 0 then 10 m/s^2): jerk 100 m/s^3 once of 2
    kink = comfort([10.0, 10.0, 11.0, 12.0], [0.0] * 4, 0.1)
    assert kink["jerk_p95"] == pytest.approx(0.95 * 100.0)  # numpy's linear p95 of [100, 0]


def test_collisions_per_km_pool_every_route():
    from vla_driving.evaluation.closed_loop_scoring import aggregate

    def row(progress, off, collisions, lat):
        return {"driving_score": 50.0, "route_completion": 50.0, "infraction_penalty": 1.0,
                "instruction_success": False, "progress_m": progress, "off_road_m": off,
                "infractions": {"collision_vehicle": collisions} if collisions else {},
                "comfort": {"lateral_accel_p95": lat}}
    agg = aggregate([row(400.0, 100.0, 1, 1.0), row(1500.0, 0.0, 2, 3.0)])
    assert agg["km_driven"] == pytest.approx(2.0)
    assert agg["collisions_per_km"] == pytest.approx(1.5)
    assert (agg["lateral_accel_p95_mean"], agg["lateral_accel_p95_max"]) == (2.0, 3.0)
