"""The lead-car target of a frame and the training-only head that reads it from the tokens."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from vla_driving_training.data.lead import LEAD_RANGE_M, lead_target
from vla_driving_training.loop import _probes
from vla_driving_training.presets import stage_named, tiny

POSE = (100.0, 0.0, 0.0)   # heading +x


def _car(x, y, speed, lane=None):
    return {"x": x, "y": y, "yaw": 0.0, "speed": speed, **({"lane": lane} if lane else {})}


def test_the_lead_is_the_nearest_car_ahead_in_the_egos_lane():
    gt = {"agents": [_car(160, 0.5, 20.0), _car(140, 0.0, 15.0), _car(120, 4.0, 10.0),
                     _car(90, 0.0, 30.0)]}            # farther; nearer; next lane; behind
    present, gap, closing = lead_target(gt, POSE, ego_speed=25.0)
    assert present == 1.0
    assert gap * LEAD_RANGE_M == pytest.approx(40.0)
    assert closing * 10 == pytest.approx(10.0)


def test_lane_ids_decide_when_the_ground_truth_has_them():
    gt = {"road": {"ego_lane_name": "a>b>1"},
          "agents": [_car(120, 0.0, 20.0, lane="a>b>0"), _car(150, 3.5, 20.0, lane="a>b>1")]}
    _, gap, _ = lead_target(gt, POSE, ego_speed=20.0)
    assert gap * LEAD_RANGE_M == pytest.approx(50.0)


def test_no_lead_in_range_or_no_ground_truth_reads_absent():
    far = {"agents": [_car(100 + LEAD_RANGE_M + 1, 0.0, 20.0)]}
    for gt in (far, None, {}):
        np.testing.assert_array_equal(lead_target(gt, POSE, 20.0), [0.0, 1.0, 0.0])


def test_the_head_trains_the_frontend_and_only_where_the_batch_has_a_lead(overfit_tiny,
                                                                          probe_step):
    _, _, data, _ = overfit_tiny
    samples = [dict(data[i], lead=torch.tensor([i % 2, 0.5, 0.3])) for i in range(len(data))]
    terms, _, frontend_grad = probe_step("lead", samples)
    assert terms["lead"] > 0
    assert frontend_grad
    unlabelled = [{k: v for k, v in data[i].items() if k != "lead"} for i in range(len(data))]
    without, _, _ = probe_step("lead", unlabelled)
    assert "lead" not in without                     # no lead labels (no ground truth): no term


def test_no_head_without_a_lead_weight():
    assert _probes(None, stage_named(tiny(), "drive")) == {}
