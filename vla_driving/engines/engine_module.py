"""An `Engine` behind an `nn.Module` face, so model code calls a compiled encoder unchanged."""

from __future__ import annotations

import torch
from torch import nn

from vla_driving.engines.base import Engine


class EngineModule(nn.Module):
    """forward(tensor) -> tensor through a single-input, single-output engine."""

    def __init__(self, engine: Engine):
        super().__init__()
        self.engine = engine
        self.input_name = engine.inputs[0].name
        self.output_name = engine.outputs[0].name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feeds = {self.input_name: x.detach().cpu().float().numpy()}
        out = self.engine.run(feeds)[self.output_name]
        return torch.from_numpy(out).to(x.device)
