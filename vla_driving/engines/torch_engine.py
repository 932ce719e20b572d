"""Torch eager backend: the reference every compiled engine is compared against."""

from __future__ import annotations

import numpy as np

from vla_driving.engines.base import Engine, TensorSpec, require


class TorchEngine(Engine):
    """Runs an `nn.Module` whose forward takes the inputs positionally, in spec order."""

    backend = "torch"

    def __init__(self, module, inputs: list[TensorSpec], outputs: list[TensorSpec],
                 device: str = "cpu"):
        self.torch = require("torch", "torch")
        self.device = self.torch.device(device)
        self.module = module.to(self.device).eval()
        self._inputs, self._outputs = list(inputs), list(outputs)

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        args = [torch.from_numpy(feeds[s.name]).to(self.device) for s in self._inputs]
        with torch.inference_mode():
            out = self.module(*args)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return {s.name: o.detach().float().cpu().numpy() for s, o in zip(self._outputs, outs)}
