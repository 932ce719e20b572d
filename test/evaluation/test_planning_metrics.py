"""Hand-computed checks of L2 and collision rate under the UniAD and ST-P3 conventions."""

import numpy as np
import pytest

from vla_driving.evaluation.geometry import boxes_overlap, plan_poses
from vla_driving.evaluation.planning_metrics import (
    collision_metrics, collision_steps, horizon_step, l2_metrics)

NAN_BOX = [np.nan] * 5


def test_l2_conventions_differ_on_the_same_input():
    true = np.zeros((2, 6, 2))
    pred = np.zeros((2, 6, 2))
    pred[0, :, 1] = [1, 2, 3, 4, 5, 6]      # sample 0: error grows 1 m per step
    out = l2_metrics(pred, true)            # sample 1 is perfect, so every mean halves
    assert out["per_step"] == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    assert out["uniad"] == pytest.approx({"1s": 1.0, "2s": 2.0, "3s": 3.0, "avg": 2.0})
    # ST-P3: mean over the steps up to the horizon: (0.5+1)/2, (0.5+..+2)/4, (0.5+..+3)/6
    assert out["stp3"] == pytest.approx({"1s": 0.75, "2s": 1.25, "3s": 1.75, "avg": 1.25})


def test_l2_mask_excludes_missing_labels():
    pred = np.zeros((2, 6, 2))
    pred[0, :, 0] = 4.0
    valid = np.ones((2, 6), dtype=bool)
    valid[1] = False
    assert l2_metrics(pred, np.zeros((2, 6, 2)), valid)["uniad"]["3s"] == pytest.approx(4.0)


def test_l2_rejects_bad_shapes_and_horizons():
    with pytest.raises(ValueError):
        l2_metrics(np.zeros((1, 6, 2)), np.zeros((1, 5, 2)))
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


def _straight_plan():
    return np.column_stack([2.0 * np.arange(1, 7), np.zeros(6)])


def test_collision_conventions_hand_computed():
    agents = np.full((6, 1, 5), np.nan)
    agents[2, 0] = [6.0, 0.0, 0.0, 4.0, 2.0]    # on the plan at step 3 (1.5 s)
    agents[5, 0] = [12.0, 0.5, 0.3, 4.0, 2.0]   # and at step 6 (3.0 s)
    hits = collision_steps(_straight_plan(), agents)
    assert hits.tolist() == [False, False, True, False, False, True]
    empty = np.full((6, 0, 5), np.nan)
    out = collision_metrics([_straight_plan(), _straight_plan()], [agents, empty])
    assert out["uniad"] == pytest.approx({"1s": 0.0, "2s": 0.0, "3s": 0.5, "avg": 0.5 / 3})
    assert out["stp3"]["1s"] == pytest.approx(0.0)
    assert out["stp3"]["2s"] == pytest.approx(0.5 / 4)
    assert out["stp3"]["3s"] == pytest.approx(1.0 / 6)


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

