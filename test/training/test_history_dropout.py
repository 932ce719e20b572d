"""Past-motion dropout hides the ego's acceleration and past, never the labels."""

from __future__ import annotations

import random

import numpy as np
import torch

from vla_driving.data.labels import PAST_TIMES_S
from vla_driving_training.history_dropout import drop_history


def _batch(n: int = 64) -> dict:
    g = torch.Generator().manual_seed(0)
    past = -torch.rand(n, len(PAST_TIMES_S), 2, generator=g) * 30
    past[:4] = 0.0                                  # episode starts: nothing recorded yet
    return {"ego": torch.stack([torch.rand(n, generator=g) * 30, torch.randn(n, generator=g) * 0.1,
                                torch.randn(n, generator=g) * 2], dim=1),
            "past": past, "waypoints": torch.randn(n, 6, 2, generator=g),
            "instruction": ["keep the current lane"] * n}


def test_no_dropout_leaves_the_batch_alone():
    batch = _batch()
    assert drop_history(batch, 0.0, random.Random(0)) is batch


def test_a_dropped_sample_reads_a_constant_speed_past_and_no_acceleration():
    batch = _batch()
    before = {k: v.clone() for k, v in batch.items() if torch.is_tensor(v)}
    out = drop_history(batch, 1.0, random.Random(0))
    for k, v in before.items():                     # the caller's tensors are untouched
        assert torch.equal(batch[k], v)
    assert torch.equal(out["waypoints"], batch["waypoints"])
    assert torch.equal(out["ego"][:, :2], batch["ego"][:, :2])   # speed and yaw rate stay
    assert torch.all(out["ego"][:, 2] == 0)
    speed = batch["ego"][4:, 0].numpy()
    np.testing.assert_allclose(out["past"][4:, :, 0].numpy(), speed[:, None] * PAST_TIMES_S,
                               rtol=1e-6)
    assert torch.all(out["past"][4:, :, 1] == 0)
    assert torch.all(out["past"][:4] == 0)          # an episode's start stays a start


def test_the_share_of_dropped_samples_follows_p():
    batch = _batch(2000)
    out = drop_history(batch, 0.3, random.Random(1))
    dropped = (out["ego"][:, 2] != batch["ego"][:, 2]).float().mean().item()
    assert 0.26 < dropped < 0.34


def test_the_train_command_sets_dropout_lead_loss_and_average_on_drive_stages_only():
    import argparse

    from vla_driving_training import train_cli

    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    cfg = train_cli.configure(parser.parse_args(["--data", "synthetic", "--out", "x", "--preset",
                                                 "default", "--history-dropout", "0.5",
                                                 "--lead", "2", "--ema-decay", "0.99"]))
    for stage in cfg.stages:
        drives = "drive" in stage.tasks
        assert stage.history_dropout == (0.5 if drives else 0.0), stage.name
        assert stage.weights.lead == (2.0 if drives else 0.0), stage.name
        assert stage.ema_decay == (0.99 if drives else 0.0), stage.name
    plain = train_cli.configure(parser.parse_args(["--data", "synthetic", "--out", "x"]))
    assert all(s.history_dropout == 0 and s.weights.lead == 0 and s.ema_decay == 0
               for s in plain.stages)
