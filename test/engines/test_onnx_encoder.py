"""ONNX export of the vision frontend, ONNX Runtime vs torch on dataset frames, I/O checks."""

import logging

import numpy as np
import pytest
import torch

from vla_driving.engines.base import EngineError, InputError, MissingDependencyError, require
from vla_driving.engines.config import EngineConfig
from vla_driving.export.pipeline import export_onnx, sample_images
from vla_driving.engines.ort_engine import OrtEngine, resolve_providers
from vla_driving.engines.registry import create_engine
from vla_driving.model.checkpoint import load_checkpoint

# Same kernels, different summation order: fp32 round-off only.
MAX_ABS_ERROR = 1e-4


@pytest.fixture(scope="module")
def exported(tiny_checkpoint, samples, tmp_path_factory):
    model, _ = load_checkpoint(tiny_checkpoint)
    out = tmp_path_factory.mktemp("onnx")
    entry, agreement = export_onnx(model, samples, out, batch=4)
    return model, out / entry["file"], entry, agreement


def test_onnx_matches_torch_on_dataset_frames(exported, samples):
    model, path, entry, agreement = exported
    print(f"ONNX Runtime vs torch on {agreement.samples} frames: max abs {agreement.max_abs:.3g}, "
          f"max rel {agreement.max_rel:.3g}")
    assert agreement.samples == len(samples)
    assert agreement.max_abs < MAX_ABS_ERROR
    assert entry["inputs"][0]["name"] == "images" and entry["outputs"][0]["name"] == "visual_embeds"


def test_batch_is_dynamic(exported, samples):
    model, path, _, _ = exported
    engine = OrtEngine(path, EngineConfig(ort_providers=["cpu"]))
    images = sample_images(model, samples[:3], 3)[0]
    for batch in (1, 3):
        out = engine.run({"images": images[:batch]})["visual_embeds"]
        with torch.no_grad():
            ref = model.frontend(torch.from_numpy(images[:batch])).numpy()
        assert out.shape == ref.shape and np.abs(out - ref).max() < MAX_ABS_ERROR


def test_wrong_input_shape_dtype_or_name_is_refused_clearly(exported, samples):
    model, path, _, _ = exported
    engine = OrtEngine(path)
    images = sample_images(model, samples[:1], 1)[0]
    with pytest.raises(InputError, match=r"input 'images': shape \(1, 4, 3, 16, 16\), expected "
                                         r"\[N, 4, 3, 32, 32\]"):
        engine.run({"images": images[:, :, :, :16, :16]})
    with pytest.raises(InputError, match="dtype float64"):
        engine.run({"images": images.astype(np.float64)})
    with pytest.raises(InputError, match="missing inputs"):
        engine.run({"pixels": images})


def test_providers_follow_config_order_and_skip_unavailable(caplog):
    available = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    with caplog.at_level(logging.INFO):
        chosen = resolve_providers(["tensorrt", "cuda", "cpu"], available)
    assert chosen == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert "TensorrtExecutionProvider not available" in caplog.text
    assert resolve_providers(["cpu", "cuda"], available)[0] == "CPUExecutionProvider"
    with pytest.raises(EngineError, match="none of the requested"):
        resolve_providers(["tensorrt"], ["CPUExecutionProvider"])


def test_auto_backend_falls_back_to_onnxruntime_and_says_why(exported, caplog):
    _, path, entry, _ = exported
    from vla_driving.engines.base import TensorSpec

    inputs = [TensorSpec.from_dict(s) for s in entry["inputs"]]
    with caplog.at_level(logging.INFO):
        engine = create_engine(path, inputs, EngineConfig(backend="auto"), path.parent / "cache")
    assert engine.backend == "onnxruntime"
    if not torch.cuda.is_available():
        assert "backend tensorrt unavailable" in caplog.text


def test_missing_optional_dependency_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r"pip install 'vla_driving\[tensorrt\]'"):
        require("vla_driving_no_such_module", "tensorrt")
