"""The policy feeds the frames a bundle was trained on (0.5 s apart), not the last T sets."""

import logging

import numpy as np
import pytest

from vla_driving.constants import NS_PER_S
from vla_driving.policy.frame_history import FramePicker, pick_frames

TEN_HZ = [int(k * 0.1 * NS_PER_S) for k in range(16)]


def test_frames_half_a_second_apart_from_a_10hz_history():
    assert pick_frames(TEN_HZ, 2, 0.5) == [10, 15]
    assert pick_frames(TEN_HZ, 3, 0.5) == [5, 10, 15]


def test_a_younger_history_repeats_its_oldest_set_like_an_episode_start():
    assert pick_frames(TEN_HZ[:3], 2, 0.5) == [0, 2]
    padded = [TEN_HZ[0]] * 14 + TEN_HZ[:2]          # the ingest pads with the oldest set
    assert [padded[i] for i in pick_frames(padded, 2, 0.5)] == [0, TEN_HZ[1]]
    with pytest.raises(ValueError):
        pick_frames([], 2, 0.5)


def test_jittered_stamps_take_the_last_set_at_or_before_each_target():
    stamps = [0, 95_000_000, 210_000_000, 290_000_000, 410_000_000, 505_000_000, 600_000_000]
    assert pick_frames(stamps, 2, 0.5) == [1, 6]     # target 0.1 s: the set at 0.095 s


def test_bundles_without_an_interval_keep_the_last_sets():
    assert FramePicker(2, None)(tuple(TEN_HZ), 16) == [14, 15]
    assert FramePicker(2, 0.5)((), 4) == [2, 3]      # no stamps given: the last sets as well
    assert FramePicker(3, None)((), 1) == [0, 0, 0]


def test_warns_once_when_a_full_history_is_too_short(caplog):
    picker = FramePicker(2, 0.5)
    with caplog.at_level(logging.WARNING):
        picker([0, 0, 0, 100_000_000], 4)            # still padded: a young run, no warning
        assert not picker.warned
        for start in range(3):
            picker([int((start + k) * 0.1 * NS_PER_S) for k in range(4)], 4)
    assert picker.warned
    assert sum("raise ingest.history" in r.message for r in caplog.records) == 1


def test_sets_already_picked_are_kept_and_not_taken_for_a_short_history(caplog):
    picker = FramePicker(2, 0.5)
    young_run = [0, 300_000_000]                    # two sets the planner picked 0.3 s into a run
    with caplog.at_level(logging.WARNING):
        assert picker(young_run, 2, check_span=False) == [0, 1]
        assert picker([0, 500_000_000], 2, check_span=False) == [0, 1]
    assert not picker.warned and not caplog.records


def test_the_policy_encodes_the_picked_frames(tmp_path):
    pytest.importorskip("torch")
    from tiny_bundle_builder import build_tiny_bundle

    from vla_driving.policy.vla_policy import VlaPolicy
    from vla_driving.types import EgoState, Observation

    policy = VlaPolicy.from_bundle(build_tiny_bundle(tmp_path))
    assert policy.pick_frames.interval_s == 0.5 and policy.num_frames == 2
    seen = []
    policy.bundle.model.frontend.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    # set k is a flat grey of value 10 * k, so the encoded frames name themselves
    images = np.stack([np.full((len(policy.cameras), 48, 48, 3), 10 * k, np.uint8)
                       for k in range(16)])
    stamp = TEN_HZ[-1]
    policy.infer(Observation(stamp, images, policy.cameras, EgoState(stamp, speed=5.0),
                             frame_stamps_ns=tuple(TEN_HZ)))
    fed = seen[-1]                                  # [1, T*N, 3, S, S], frame-major, normalised
    n = len(policy.cameras)
    means = [float(fed[0, t * n:(t + 1) * n].mean()) for t in range(2)]
    expected = [(10 * k / 255 - 0.5) / 0.25 for k in (10, 15)]
    np.testing.assert_allclose(means, expected, atol=1e-3)
