"""TensorRT plans from the exported encoder: fp16 build, cache reuse, agreement with ONNX Runtime.

Needs an NVIDIA GPU and the `tensorrt` package; skipped with the reason otherwise (the cache-key
logic is tested everywhere in test_engine_cache.py).
"""

import importlib.util

import numpy as np
import pytest
import torch

from vla_driving.engines.base import TensorSpec
from vla_driving.engines.config import EngineConfig
from vla_driving.export.pipeline import export_onnx, sample_images
from vla_driving.engines.ort_engine import OrtEngine
from vla_driving.model.checkpoint import load_checkpoint

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(importlib.util.find_spec("tensorrt") is None,
                       reason="tensorrt not installed (pip install 'vla_driving[tensorrt]')"),
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible"),
]

FP16_REL_TOL = 2e-2


def test_fp16_plan_is_built_once_then_cached_and_matches_onnxruntime(tiny_checkpoint, samples,
                                                                     tmp_path):
    from vla_driving.engines.registry import ensure_trt_plan
    from vla_driving.engines.trt_engine import TrtEngine

    model, _ = load_checkpoint(tiny_checkpoint)
    entry, _ = export_onnx(model, samples, tmp_path)
    onnx_path = tmp_path / entry["file"]
    inputs = [TensorSpec.from_dict(s) for s in entry["inputs"]]
    cfg = EngineConfig(precision="fp16", max_batch=4)
    plan, path, built = ensure_trt_plan(onnx_path, inputs, cfg, tmp_path / "engines")
    again, path2, built2 = ensure_trt_plan(onnx_path, inputs, cfg, tmp_path / "engines")
    assert built and not built2 and path == path2 and plan == again
    engine = TrtEngine(plan)
    images = sample_images(model, samples[:3], 3)[0]
    got = engine.run({"images": images})["visual_embeds"]
    want = OrtEngine(onnx_path).run({"images": images})["visual_embeds"]
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= FP16_REL_TOL * np.abs(want).max()
