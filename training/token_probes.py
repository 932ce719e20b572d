"""Training-only heads that read the scene from the visual tokens: the lead car and the ego's
place in its lane.

Trained on the expert's frames alone, the vision frontend kept nothing of the car ahead: a
ridge read-out of its tokens predicts the lead's gap worse than the same frontend at random
initialisation (docs/training.md), because the ego's own motion explained the expert's braking.
These heads' losses (`LossWeights.lead`, `LossWeights.lane`) make the tokens carry what the
plan depends on. They see the tokens the planner sees (a forward hook on `model.frontend`) and
are not saved: the bundle is unchanged. They are outside the DDP wrapper, so under DDP their
gradients are averaged by `sync_grads` (the frontend's are synchronised by DDP as usual).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class TokenProbe(nn.Module):
    """An MLP on the frontend's latest output; `loss` says what it must read there."""

    outputs = 0

    def __init__(self, tokens: int, width: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(1), nn.Linear(tokens * width, hidden), nn.GELU(),
                                 nn.Linear(hidden, self.outputs))
        self.visual: torch.Tensor | None = None

    def attach(self, frontend: nn.Module) -> None:
        """Keep the frontend's latest output (until `detach`)."""
        self._hook = frontend.register_forward_hook(
            lambda _m, _i, out: setattr(self, "visual", out))

    def detach(self) -> None:
        self._hook.remove()
        self.visual = None

    def sync_grads(self, accelerator) -> None:
        """Average the head's gradients over the processes, as DDP does for the model's."""
        if accelerator.num_processes < 2:
            return
        for p in self.parameters():
            if p.grad is not None:
                p.grad = accelerator.reduce(p.grad, reduction="mean")

    def predict(self, rows: int) -> torch.Tensor:
        return self.net(self.visual[:rows].float())

    def loss(self, target: torch.Tensor, rows: int) -> torch.Tensor:
        raise NotImplementedError


class LeadHead(TokenProbe):
    """The lead car (`data/lead.py`): presence, gap, closing speed."""

    outputs = 3

    def loss(self, target: torch.Tensor, rows: int) -> torch.Tensor:
        """Presence (BCE) on every row; gap and closing speed (smooth L1) where a lead is;
        `rows`: the first rows of the latest frontend output that `target` [rows, 3] labels."""
        pred = self.predict(rows)
        present = target[:, 0]
        terms = F.binary_cross_entropy_with_logits(pred[:, 0], present)
        if present.any():
            mask = present > 0.5
            terms = terms + F.smooth_l1_loss(pred[mask, 1:], target[mask, 1:])
        return terms


class LaneHead(TokenProbe):
    """The ego's place in its lane (`data/lane.py`): lateral offset and heading error."""

    outputs = 2

    def loss(self, target: torch.Tensor, rows: int) -> torch.Tensor:
        """Smooth L1 on the rows whose lane is known (`target` [rows, 3]: known, offset,
        heading); zero (still a graph) when none is."""
        pred = self.predict(rows)
        mask = target[:, 0] > 0.5
        if not mask.any():
            return pred.sum() * 0.0
        return F.smooth_l1_loss(pred[mask], target[mask, 1:])


PROBES = {"lead": LeadHead, "lane": LaneHead}   # batch key and LossWeights field -> head
