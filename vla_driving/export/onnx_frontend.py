"""Export the vision frontend (encoder + temporal aggregation + projector) to ONNX, and check it.

Uses the torch.export-based exporter (`dynamo=True`, needs onnxscript) because the TorchScript
exporter cannot export `adaptive_avg_pool2d` with a dynamic batch. Only the batch is dynamic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vla_driving.engines.base import DYNAMIC, Engine, TensorSpec, require

log = logging.getLogger(__name__)

INPUT_NAME = "images"
OUTPUT_NAME = "visual_embeds"
OPSET = 18
MAX_EXPORT_BATCH = 1024
REL_EPS = 1e-12


def frontend_specs(images_shape: tuple[int, ...], embeds_shape: tuple[int, ...]
                   ) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """I/O specs of the exported frontend (batch dynamic, everything else fixed)."""
    return ([TensorSpec(INPUT_NAME, "float32", (DYNAMIC, *images_shape[1:]))],
            [TensorSpec(OUTPUT_NAME, "float32", (DYNAMIC, *embeds_shape[1:]))])


def export_frontend(frontend, example_images, path: str | Path) -> tuple[list[TensorSpec],
                                                                      list[TensorSpec]]:
    """Write `frontend` to `path` as ONNX; returns its (inputs, outputs) specs."""
    torch = require("torch", "torch")
    require("onnxscript", "train")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frontend = frontend.eval()
    batch = torch.export.Dim("batch", min=1, max=MAX_EXPORT_BATCH)
    with torch.no_grad():
        out = frontend(example_images)
        torch.onnx.export(frontend, (example_images,), str(path), input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], opset_version=OPSET, dynamo=True,
                          dynamic_shapes={INPUT_NAME: {0: batch}}, external_data=False,
                          verbose=False)
    log.info("exported %s (%d bytes)", path, path.stat().st_size)
    return frontend_specs(tuple(example_images.shape), tuple(out.shape))


@dataclass
class Agreement:
    """How closely an engine reproduces the torch reference."""

    max_abs: float
    max_rel: float   # max |a - b| / max |b|
    samples: int

    def within(self, abs_tol: float, rel_tol: float) -> bool:
        return self.max_abs <= abs_tol or self.max_rel <= rel_tol


def compare(engine: Engine, reference: Engine, batches: list[np.ndarray]) -> Agreement:
    """Max abs / relative error of `engine` against `reference` over image batches."""
    max_abs, max_ref, count = 0.0, 0.0, 0
    for images in batches:
        got = engine.run({INPUT_NAME: images})[OUTPUT_NAME]
        want = reference.run({INPUT_NAME: images})[OUTPUT_NAME]
        max_abs = max(max_abs, float(np.abs(got - want).max()))
        max_ref = max(max_ref, float(np.abs(want).max()))
        count += images.shape[0]
    return Agreement(max_abs, max_abs / max(max_ref, REL_EPS), count)
