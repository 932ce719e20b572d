"""Class-balanced sampling of the drive stage (training/balance.py)."""

import dataclasses
from collections import Counter

import pytest

from vla_driving_training.balance import balanced_weights, meta_classes
from vla_driving_training.dagger.rounds import Aggregate
from vla_driving_training.loop import make_loader
from vla_driving_training.presets import stage_named, tiny


def frames(classes):
    """Items as the datasets give them (only the meta-action levels matter here)."""
    return [{"steering_level": st, "speed_level": sp, "i": i} for i, (st, sp) in enumerate(classes)]


CRUISE, BRAKE = (1, 0), (1, 3)


def test_weights_make_every_class_equally_likely_at_balance_one():
    classes = [CRUISE] * 90 + [BRAKE] * 10
    w = balanced_weights(classes, 1.0)
    mass = Counter()
    for c, x in zip(classes, w):
        mass[c] += x
    assert mass[CRUISE] == pytest.approx(mass[BRAKE])
    assert sum(w) / len(w) == pytest.approx(1.0)


def test_balance_zero_is_uniform_and_a_half_is_between():
    classes = [CRUISE] * 90 + [BRAKE] * 10
    assert balanced_weights(classes, 0.0) == pytest.approx([1.0] * 100)
    w = balanced_weights(classes, 0.5)
    assert w[-1] / w[0] == pytest.approx(3.0)          # sqrt(90 / 10)
    assert balanced_weights([], 1.0) == []


def test_a_very_rare_class_is_capped():
    w = balanced_weights([CRUISE] * 9999 + [BRAKE], 1.0)
    assert max(w) == 20.0                                # the index's MAX_CLASS_WEIGHT


def test_aggregate_classes_follow_its_items():
    base, dagger = frames([CRUISE] * 4), frames([BRAKE] * 2)
    mixed = Aggregate(base, [dagger], share=0.5)
    assert meta_classes(mixed) == [(mixed[i]["steering_level"], mixed[i]["speed_level"])
                                   for i in range(len(mixed))]


def loader_draws(data, balance, seed=0):
    cfg = dataclasses.replace(tiny(), seed=seed)
    stage = dataclasses.replace(stage_named(cfg, "drive"), batch_size=10, balance=balance)
    return [int(i) for i in make_loader(data, cfg, stage).sampler]    # the indices drawn


def test_the_balanced_loader_draws_braking_frames_as_often_as_cruising_ones():
    data = frames([CRUISE] * 900 + [BRAKE] * 100)
    balanced = loader_draws(data, 1.0)
    shuffled = loader_draws(data, 0.0)
    assert len(balanced) == len(shuffled) == 1000
    brake_share = sum(i >= 900 for i in balanced) / len(balanced)
    assert 0.42 < brake_share < 0.58
    assert sum(i >= 900 for i in shuffled) == 100       # uniform: each frame once an epoch
    assert loader_draws(data, 1.0) == balanced          # seeded: the same draws again
    assert loader_draws(data, 1.0, seed=1) != balanced
