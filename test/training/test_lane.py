"""The ego's place in its lane from the ground truth, and the training-only head that reads it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vla_driving_training.data.lane import (CLIP, HEADING_SCALE_RAD, OFFSET_SCALE_M, centerlines,
                                            lane_pose, lane_target)

STRAIGHT = [{"lane": "a>b>0", "centerline": [[0, 0], [50, 0], [100, 0]]},
            {"lane": "a>b>1", "centerline": [[0, -4], [100, -4]]}]


def _gt(lane):
    return {"road": {"ego_lane_name": lane}}


def test_left_of_the_centre_line_is_positive_and_heading_is_relative_to_it():
    lines = centerlines(STRAIGHT)
    known, offset, heading = lane_target(_gt("a>b>0"), (60.0, 0.5, 0.1), lines)
    assert known == 1.0
    assert offset * OFFSET_SCALE_M == pytest.approx(0.5)
    assert heading * HEADING_SCALE_RAD == pytest.approx(0.1, abs=1e-6)
    _, right, _ = lane_target(_gt("a>b>1"), (60.0, -5.0, 0.0), lines)
    assert right * OFFSET_SCALE_M == pytest.approx(-1.0)


def test_the_nearest_segment_of_a_bent_line_decides():
    line = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])   # east, then north
    offset, heading = lane_pose(line, (9.0, 6.0, math.pi / 2))
    assert offset == pytest.approx(1.0)                       # west of a line heading north: left
    assert heading == pytest.approx(0.0, abs=1e-9)
    offset, heading = lane_pose(line, (4.0, -1.0, -0.2))
    assert offset == pytest.approx(-1.0) and heading == pytest.approx(-0.2)


def test_far_off_the_lane_is_clipped_and_unknown_lanes_read_absent():
    lines = centerlines(STRAIGHT)
    assert lane_target(_gt("a>b>0"), (50.0, 30.0, 0.0), lines)[1] == CLIP
    for gt in (None, {}, _gt("x>y>0")):
        np.testing.assert_array_equal(lane_target(gt, (50.0, 0.0, 0.0), lines), [0.0, 0.0, 0.0])
    assert centerlines(None) == {} and centerlines([{"lane": "a", "centerline": [[0, 0]]}]) == {}


def test_the_lane_head_trains_the_frontend_only_on_known_lanes(overfit_tiny, probe_step):
    _, _, data, _ = overfit_tiny
    samples = [dict(data[i], lane=torch.tensor([1.0, 0.5, -0.3])) for i in range(len(data))]
    terms, probes, frontend_grad = probe_step("lane", samples)
    assert probes == ["lane"]
    assert terms["lane"] > 0
    assert frontend_grad
    unknown = [dict(data[i], lane=torch.zeros(3)) for i in range(len(data))]
    none, _, _ = probe_step("lane", unknown)
    assert none["lane"] == 0.0
