"""Hand-computed checks of L2 and collision rate under each published convention (UniAD, ST-P3,
VAD) and our swept physical check: missing steps, a ground-truth trajectory that already
collides, a barrier, a pedestrian and a turning ego."""

import numpy as np
import pytest

from vla_driving.evaluation.geometry import boxes_overlap, fixed_heading_poses, plan_poses
from vla_driving.evaluation.planning_metrics import (
    at_step, collision_metrics, collision_steps, horizon_step, l2_metrics, nuscenes_box_hits,
    up_to)

NAN_BOX = [np.nan] * 5


def test_l2_conventions_differ_on_the_same_input():
    true = np.zeros((2, 6, 2))
    pred = np.zeros((2, 6, 2))
    pred[0, :, 1] = [1, 2, 3, 4, 5, 6]      # sample 0: error grows 1 m per step
    out = l2_metrics(pred, true)            # sample 1 is perfect, so every mean halves
    assert out["per_step"]["uniad"] == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    assert out["uniad"] == pytest.approx({"1s": 1.0, "2s": 2.0, "3s": 3.0, "avg": 2.0})
    # ST-P3: mean over the steps up to the horizon: (0.5+1)/2, (0.5+..+2)/4, (0.5+..+3)/6
    assert out["stp3"] == pytest.approx({"1s": 0.75, "2s": 1.25, "3s": 1.75, "avg": 1.25})
    assert out["samples"] == {"uniad": 2, "stp3": 2}


def test_l2_missing_steps_uniad_counts_every_sample_stp3_complete_futures_only():
    pred = np.zeros((3, 6, 2))
    true = np.full((3, 6, 2), np.nan)
    true[0] = 0.0
    true[0, :, 1] = [1, 2, 3, 4, 5, 6]      # complete future, errors 1..6 m
    true[1, :2] = [[2.0, 0.0], [2.0, 0.0]]  # the episode ends after 1.0 s: 2 m at two steps
    valid = np.zeros((3, 6), dtype=bool)    # sample 2: the last frame, no future at all
    valid[0] = True
    valid[1, :2] = True
    out = l2_metrics(pred, true, valid)
    # UniAD: each step sums what exists and divides by all 3 samples
    assert out["per_step"]["uniad"] == pytest.approx([1.0, 4 / 3, 1.0, 4 / 3, 5 / 3, 2.0])
    assert out["uniad"] == pytest.approx({"1s": 4 / 3, "2s": 4 / 3, "3s": 2.0, "avg": 14 / 9})
    # ST-P3 / VAD: only sample 0 has a complete future (fut_valid_flag)
    assert out["stp3"] == pytest.approx({"1s": 1.5, "2s": 2.5, "3s": 3.5, "avg": 2.5})
    assert out["samples"] == {"uniad": 3, "stp3": 1}


def test_horizon_readings():
    table = [1, 2, 3, 4, 5, 6]
    assert at_step(table) == pytest.approx({"1s": 2, "2s": 4, "3s": 6, "avg": 4})
    assert up_to(table) == pytest.approx({"1s": 1.5, "2s": 2.5, "3s": 3.5, "avg": 2.5})


def test_l2_rejects_bad_shapes_and_horizons():
    with pytest.raises(ValueError):
        l2_metrics(np.zeros((1, 6, 2)), np.zeros((1, 5, 2)))
    with pytest.raises(ValueError):
        l2_metrics(np.zeros((1, 6, 2)), np.zeros((1, 6, 2)), np.ones((1, 5), dtype=bool))
    with pytest.raises(ValueError):
        horizon_step(1.25)


def test_oriented_boxes_use_their_heading():
    ego = np.array([0.0, 0.0, 0.0, 5.0, 2.0])
    diamond = lambda cx, cy: [cx, cy, np.pi / 4, 2.0, 2.0]   # noqa: E731  (2 m square at 45 deg)
    # |2.5-3.2| + |1-1.7| = 1.4 < sqrt(2): the ego's corner is inside the diamond
    assert boxes_overlap(ego, np.array([diamond(3.2, 1.7)])).tolist() == [True]
    # 0.75 + 0.75 = 1.5 > sqrt(2): apart, although the axis-aligned bounds would overlap
    assert boxes_overlap(ego, np.array([diamond(3.25, 1.75)])).tolist() == [False]
    assert boxes_overlap(ego, np.zeros((0, 5))).shape == (0,)


def test_plan_poses_heading_follows_travel():
    poses = plan_poses([[1, 0], [1, 1], [1, 1], [0, 1], [0, 1], [0, 1]])
    assert poses[:, 2] == pytest.approx([0, np.pi / 2, np.pi / 2, np.pi, np.pi, np.pi])


def test_fixed_heading_poses_shift_forward_and_never_turn():
    poses = fixed_heading_poses([[1, 0], [1, 1]], 0.5)
    assert poses.tolist() == [[1.5, 0.0, 0.0], [1.5, 1.0, 0.0]]


def _straight_plan(y=0.0):
    return np.column_stack([2.0 * np.arange(1, 7), np.full(6, y)])


def _agents(*placed):
    """(6, A, 5) with agent j's box at the given step only: placed = (step, box), ..."""
    boxes = np.full((6, len(placed), 5), np.nan)
    for j, (step, box) in enumerate(placed):
        boxes[step, j] = box
    return boxes


def test_ground_truth_collision_is_excluded_by_the_published_conventions():
    # sample 0: the true trajectory is the plan and a car sits on both at step 2 (1.5 s)
    agents0 = _agents((2, [6.5, 0.0, 0.0, 4.0, 2.0]))
    # sample 1: the plan hits a car at step 5 (3.0 s); the truth passed it one lane left
    agents1 = _agents((5, [12.5, 0.0, 0.0, 4.0, 2.0]))
    out = collision_metrics([_straight_plan(), _straight_plan()], [agents0, agents1],
                            true_plans=[_straight_plan(), _straight_plan(3.5)],
                            categories=[("car",), ("car",)])
    assert out["excluded_steps"] == {"uniad": 1, "vad": 1}
    assert out["per_step"]["uniad"] == pytest.approx([0, 0, 0, 0, 0, 0.5])
    assert out["uniad"] == pytest.approx({"1s": 0.0, "2s": 0.0, "3s": 0.5, "avg": 0.5 / 3})
    assert out["vad"] == pytest.approx({"1s": 0.0, "2s": 0.0, "3s": 0.5 / 6, "avg": 0.5 / 18})
    # swept: no exclusion; sample 0 has collided from 1.5 s on, sample 1 at 3.0 s
    assert out["per_step"]["swept"] == pytest.approx([0, 0, 0.5, 0.5, 0.5, 1.0])
    assert out["swept"] == pytest.approx({"1s": 0.0, "2s": 0.5, "3s": 1.0, "avg": 0.5})
    assert out["samples"] == {"uniad": 2, "vad": 2, "swept": 2}


def test_categories_barrier_pedestrian_vehicle():
    agents = _agents((1, [4.5, 0.0, 0.0, 1.0, 1.0]),      # a barrier at 1.0 s
                     (3, [8.5, 0.0, 0.0, 0.8, 0.8]),      # a pedestrian at 2.0 s
                     (5, [12.5, 0.0, 0.0, 4.0, 2.0]))     # a car at 3.0 s
    out = collision_metrics([_straight_plan()], [agents], true_plans=[_straight_plan(-20.0)],
                            categories=[("obstacle", "pedestrian", "car")])
    assert out["per_step"]["uniad"] == pytest.approx([0, 0, 0, 0, 0, 1])     # vehicles only
    assert out["per_step"]["vad"] == pytest.approx([0, 0, 0, 1, 0, 1])       # + pedestrians
    assert out["per_step"]["swept"] == pytest.approx([0, 1, 1, 1, 1, 1])     # + the barrier
    assert out["vad"] == pytest.approx({"1s": 0.0, "2s": 0.25, "3s": 2 / 6, "avg": (0.25 + 1 / 3) / 3})
    assert out["excluded_steps"] == {"uniad": 0, "vad": 0}


def test_turning_ego_fixed_box_versus_turned_box():
    # a left turn: the last segment goes straight up (+y), heading 90 deg at 3.0 s
    plan = np.array([[2, 0], [4, 0], [6, 0.5], [8, 1.5], [10, 3], [10, 6]], dtype=float)
    beside = _agents((5, [10.0, 8.2, 0.0, 1.0, 1.0]))   # ahead of the turned car's nose
    ahead = _agents((5, [12.2, 6.0, 0.0, 0.5, 0.5]))    # beside it, to the right
    # the turned 5 x 2 box spans y 3.5..8.5, x 9..11; the fixed nuScenes box, centred 0.5 m
    # ahead of (10, 6) along +x, spans x 8.458..12.542, y 5.075..6.925
    assert collision_steps(plan, beside).tolist() == [False] * 5 + [True]
    assert not nuscenes_box_hits(plan, beside).any()
    assert nuscenes_box_hits(plan, ahead).tolist() == [False] * 5 + [True]
    assert not collision_steps(plan, ahead).any()


def test_missing_steps_count_in_uniad_collision_but_never_collide():
    agents = _agents((0, [2.5, 0.0, 0.0, 4.0, 2.0]), (5, [12.5, 0.0, 0.0, 4.0, 2.0]))
    valid = np.array([[True, True, False, False, False, False],
                      [True] * 6])
    plans = [_straight_plan(), _straight_plan(-20.0)]
    out = collision_metrics(plans, [agents, agents], true_plans=[_straight_plan(-20.0)] * 2,
                            valid=valid, categories=[("car", "car")] * 2)
    # sample 0 hits at 0.5 s (recorded) and would at 3.0 s (not recorded: adds nothing)
    assert out["per_step"]["uniad"] == pytest.approx([0.5, 0, 0, 0, 0, 0])
    assert out["samples"] == {"uniad": 2, "vad": 1, "swept": 1}
    assert out["per_step"]["vad"] == pytest.approx([0] * 6)


def test_without_categories_or_truth_every_agent_is_a_vehicle_and_nothing_is_excluded():
    agents = _agents((2, [6.5, 0.0, 0.0, 4.0, 2.0]))
    out = collision_metrics([_straight_plan()], [agents])
    assert out["per_step"]["uniad"] == pytest.approx([0, 0, 1, 0, 0, 0])
    assert "no step was excluded" in out["note"]


def test_swept_ego_box_catches_what_waypoints_skip():
    plan = np.column_stack([6.0 * np.arange(1, 7), np.zeros(6)])   # 12 m/s: 6 m between checks
    agents = np.full((6, 1, 5), np.nan)
    agents[0, 0] = [1.0, 0.0, 0.0, 1.0, 1.0]   # between the origin and the first waypoint
    assert not collision_steps(plan, agents, substeps=1).any()
    assert collision_steps(plan, agents, substeps=4).tolist() == [True] + [False] * 5
    with pytest.raises(ValueError):
        collision_steps(plan, agents, substeps=0)


def test_collision_rejects_mismatched_agent_table():
    with pytest.raises(ValueError):
        collision_steps(_straight_plan(), np.zeros((5, 1, 5)))
    with pytest.raises(ValueError):
        collision_metrics([_straight_plan()], [np.full((6, 1, 5), np.nan)],
                          categories=[("car", "truck")])


def test_pairwise_overlap_agrees_with_the_one_to_many_test():
    from vla_driving.evaluation.geometry import boxes_overlap_pairs
    rng = np.random.default_rng(0)
    a = np.column_stack([rng.uniform(-5, 5, (400, 2)), rng.uniform(-np.pi, np.pi, 400),
                         rng.uniform(0.5, 6, (400, 2))])
    b = np.column_stack([rng.uniform(-5, 5, (400, 2)), rng.uniform(-np.pi, np.pi, 400),
                         rng.uniform(0.5, 6, (400, 2))])
    expect = [bool(boxes_overlap(x, y[None])[0]) for x, y in zip(a, b)]
    assert boxes_overlap_pairs(a, b).tolist() == expect
    assert 50 < sum(expect) < 350                      # both outcomes are exercised


def test_batched_collisions_equal_the_per_sample_check():
    """collision_metrics checks all samples at once (agent tables padded with absent agents);
    every flag is the one `sample_collisions` gives sample by sample."""
    from vla_driving.evaluation.planning_metrics import _batch_collisions, sample_collisions
    rng = np.random.default_rng(3)
    plans, tables, truths, cats = [], [], [], []
    for i in range(40):
        n_agents = int(rng.integers(0, 5))
        plans.append(np.cumsum(rng.normal([2.0, 0.0], [0.5, 0.4], (6, 2)), axis=0))
        xy = rng.uniform([-5, -6], [20, 6], (6, n_agents, 2))
        size = np.broadcast_to([4.5, 2.0], (6, n_agents, 2))
        table = np.concatenate([xy, rng.normal(0, 0.3, (6, n_agents, 1)), size], axis=2)
        table[rng.random((6, n_agents)) < 0.2] = np.nan
        tables.append(table)
        truths.append(None if i % 7 == 0 else plans[-1] + rng.normal(0, 1.0, (6, 2)))
        cats.append(None if i % 5 == 0 else
                    tuple(rng.choice(["car", "pedestrian", "barrier"], n_agents)))
    mask = rng.random((40, 6)) > 0.1
    batch = _batch_collisions(np.stack(plans), tables, truths, mask, cats, 5)
    for i in range(40):
        one = sample_collisions(plans[i], tables[i], truths[i], mask[i], cats[i], 5)
        for key, flags in one.items():
            assert np.array_equal(batch[key][i], flags), (i, key)
    assert batch["swept"].any() and batch["uniad"].any() and batch["uniad_gt"].any()


def test_step_overlaps_with_the_circle_cull_equals_checking_every_pair():
    """step_overlaps skips pairs whose bounding circles are apart; every flag is still the
    separating-axis test's on each (step, pose, agent) pair, near and far boxes alike."""
    from vla_driving.evaluation.geometry import step_overlaps
    rng = np.random.default_rng(5)
    steps, n_poses, n_agents = 30, 3, 12
    poses = np.column_stack([rng.uniform(-3, 3, (steps * n_poses, 2)),
                             rng.uniform(-np.pi, np.pi, steps * n_poses)]).reshape(steps,
                                                                                   n_poses, 3)
    agents = np.concatenate([rng.uniform(-12, 12, (steps, n_agents, 2)),
                             rng.uniform(-np.pi, np.pi, (steps, n_agents, 1)),
                             rng.uniform(0.5, 6, (steps, n_agents, 2))], axis=2)
    agents[rng.random((steps, n_agents)) < 0.1] = np.nan
    got = step_overlaps(poses, 5.0, 2.0, agents)
    expect = np.zeros((steps, n_agents), dtype=bool)
    for s in range(steps):
        for a in range(n_agents):
            if np.all(np.isfinite(agents[s, a])):
                expect[s, a] = any(boxes_overlap(np.r_[p, 5.0, 2.0], agents[s, a][None])[0]
                                   for p in poses[s])
    assert np.array_equal(got, expect)
    assert 20 < expect.sum() < expect.size - 100        # both outcomes, most pairs far apart
