"""Past-motion dropout (ChauffeurNet, Bansal et al. 2018): hide how the ego has been moving.

The ego's acceleration and its past positions tell a model trained on the expert's frames
whether the expert is already braking, so it learns to continue that motion instead of seeing
why: closed loop its own motion is constant until it acts, so it never starts to brake (the
causal confusion of de Haan et al. 2019; docs/training.md, "Copying the ego's motion"). In a
dropped sample the acceleration reads 0 and the past is the straight constant-speed past of
the current speed, the same inputs a car cruising into a closing gap gives the planner, while
the label still brakes where the expert braked.
"""

from __future__ import annotations

import random

import torch

from vla_driving.data.labels import PAST_TIMES_S

ACCEL = 2   # ego = (speed m/s, yaw rate rad/s, acceleration m/s^2)


def constant_speed_past(speed: torch.Tensor) -> torch.Tensor:
    """[B, P, 2] ego-frame positions of a car that drove straight at `speed` [B]."""
    t = speed.new_tensor(PAST_TIMES_S)
    x = speed[:, None] * t[None]
    return torch.stack([x, torch.zeros_like(x)], dim=-1)


def drop_history(batch: dict, p: float, rng: random.Random) -> dict:
    """`batch` with each sample's acceleration and past replaced with probability `p` (a new
    dict; the input tensors are not changed). A past of zeros (an episode's start, before any
    motion was recorded) stays zeros."""
    if p <= 0:
        return batch
    n = batch["ego"].shape[0]
    drop = torch.tensor([rng.random() < p for _ in range(n)])
    if not drop.any():
        return batch
    ego, past = batch["ego"].clone(), batch["past"].clone()
    ego[drop, ACCEL] = 0.0
    moved = drop & (past.abs().flatten(1).sum(1) > 0)
    past[moved] = constant_speed_past(ego[moved, 0]).to(past.dtype)
    return {**batch, "ego": ego, "past": past}
