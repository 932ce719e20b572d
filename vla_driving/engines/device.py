"""Where torch parts run, resolved in one place (no `.cuda()` scattered through the code).

`EngineConfig.device` is `auto` (CUDA when a GPU is visible, else CPU), `cpu`, `cuda` or
`cuda:N`; the bundle loader, the GPTQ loader and the benches all ask `resolve_device`.
"""

from __future__ import annotations

import re

from vla_driving.engines.base import EngineError

DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(requested: str = "auto") -> str:
    """The torch device string for `requested`; a CUDA request without a GPU is an error."""
    import torch

    if not DEVICE_PATTERN.match(requested):
        raise EngineError(f"device={requested!r}: expected auto, cpu, cuda or cuda:N")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EngineError(f"device={requested!r}: no CUDA GPU is visible to torch")
        index = int(requested.split(":")[1]) if ":" in requested else 0
        if index >= torch.cuda.device_count():
            raise EngineError(f"device={requested!r}: only {torch.cuda.device_count()} GPU(s)")
    return requested
