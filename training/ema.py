"""Exponential moving average of the trained weights (Polyak averaging).

The weights after the last step carry the noise of the last few batches; a running average over
the steps generalises better and costs nothing at run time. A stage with `ema_decay` saves and
validates the averaged weights and hands them to the next stage.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch


class ParamEMA:
    """Shadow copies of `params`, pulled towards them after every optimizer step."""

    def __init__(self, params, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema decay must be in (0, 1), got {decay}")
        self.params = list(params)
        self.decay = decay
        self.updates = 0
        self.shadow = [p.detach().clone() for p in self.params]

    def current_decay(self) -> float:
        """Ramped up over the first steps, so the random start does not linger in the average."""
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        weight = 1.0 - self.current_decay()
        for shadow, param in zip(self.shadow, self.params):
            shadow.lerp_(param.detach(), weight)

    @torch.no_grad()
    def _load(self, values) -> None:
        for param, value in zip(self.params, values):
            param.copy_(value)

    @contextmanager
    def applied(self):
        """The averaged weights inside the block (to save a checkpoint); the live ones after."""
        live = [p.detach().clone() for p in self.params]
        self._load(self.shadow)
        try:
            yield
        finally:
            self._load(live)

    def commit(self) -> None:
        """Keep the averaged weights for good (end of the stage)."""
        self._load(self.shadow)
