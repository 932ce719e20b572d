"""Distillation: the meta-action classes learn from the mean prediction of earlier runs.

The speed and steering levels judge the next 2-3 s, which the inputs only partly decide (a third
of the frames see a command change that no input announces). Runs that differ only in their
seed then disagree on the speed level of 11-17 % of the frames and score up to 2 points
apart; the mean of their probabilities beats each of them, and it is a better target than the
hard label. The student learns it and runs at the cost of one model.
"""

from __future__ import annotations

from pathlib import Path

import torch

from vla_driving.configuration import ConfigError
from vla_driving.model.checkpoint import load_checkpoint
from vla_driving.model.config import VLAConfig
from vla_driving.model.inference import plan_actions

# What a teacher must share with the student to read the same batch.
SHARED_VISION = ("image_size", "num_views", "num_frames", "frame_interval_s")


class Teachers:
    """Frozen checkpoints whose mean speed / steering probabilities are the soft targets."""

    def __init__(self, members: list) -> None:
        if not members:
            raise ValueError("distillation needs at least one teacher")
        self.members = members

    @classmethod
    def load(cls, directories: list[str], student: VLAConfig, device="cpu") -> "Teachers":
        members = []
        for directory in directories:
            if not Path(directory).is_dir():
                raise FileNotFoundError(f"teacher checkpoint {directory}: no such directory "
                                        "(train the teachers first, see docs/training.md)")
            model, tokenizer = load_checkpoint(directory, device=str(device))
            for key in SHARED_VISION:
                theirs, ours = getattr(model.cfg.vision, key), getattr(student.vision, key)
                if theirs != ours:
                    raise ConfigError(f"teacher {directory}: vision.{key}={theirs}, but the "
                                      f"student reads batches with {key}={ours}")
            model.eval().requires_grad_(False)
            members.append((model, tokenizer))
        return cls(members)

    @torch.no_grad()
    def meta_probs(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (speed, steering) class probabilities of the teachers on a training batch."""
        speed, steering = 0.0, 0.0
        for model, tokenizer in self.members:
            out = plan_actions(model, tokenizer, batch["images"], batch["ego"], batch["past"],
                               batch["instruction"])
            speed = speed + out.speed_logits.float().softmax(-1)
            steering = steering + out.steering_logits.float().softmax(-1)
        n = len(self.members)
        return speed / n, steering / n
