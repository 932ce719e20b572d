"""ONNX Runtime backend with execution providers chosen by config and a logged fallback order."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from vla_driving.engines.base import DYNAMIC, Engine, EngineError, TensorSpec, require
from vla_driving.engines.config import EngineConfig

log = logging.getLogger(__name__)

PROVIDER_NAMES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int64)": "int64",
             "tensor(int32)": "int32", "tensor(uint8)": "uint8", "tensor(bool)": "bool"}


def resolve_providers(requested: list[str], available: list[str]) -> list[str]:
    """ORT provider names of `requested` (config short names) that this build has, in order.

    Raises `EngineError` naming what was asked and what exists when none is available.
    """
    chosen = []
    for name in requested:
        full = PROVIDER_NAMES.get(name)
        if full is None:
            raise EngineError(f"unknown ONNX Runtime provider '{name}' "
                              f"(known: {', '.join(PROVIDER_NAMES)})")
        if full in available:
            chosen.append(full)
        else:
            log.info("ONNX Runtime provider %s not available here, falling back", full)
    if not chosen:
        raise EngineError(f"none of the requested ONNX Runtime providers {requested} is "
                          f"available (this build has {available})")
    return chosen


def _provider_options(full: str, cfg: EngineConfig, cache_dir: Path | None) -> dict:
    if full == "TensorrtExecutionProvider":
        opts = {"device_id": cfg.device_id, "trt_fp16_enable": cfg.precision != "fp32"}
        if cache_dir is not None:
            opts.update(trt_engine_cache_enable=True, trt_engine_cache_path=str(cache_dir))
        return opts
    if full == "CUDAExecutionProvider":
        return {"device_id": cfg.device_id}
    return {}


def _spec(arg) -> TensorSpec:
    dtype = ORT_TYPES.get(arg.type)
    if dtype is None:
        raise EngineError(f"tensor '{arg.name}' has unsupported type {arg.type}")
    shape = tuple(d if isinstance(d, int) and d > 0 else DYNAMIC for d in arg.shape)
    return TensorSpec(arg.name, dtype, shape)


class OrtEngine(Engine):
    """An ONNX model in an `onnxruntime.InferenceSession`."""

    backend = "onnxruntime"

    def __init__(self, onnx_path: str | Path, cfg: EngineConfig | None = None,
                 cache_dir: Path | None = None):
        ort = require("onnxruntime", None, "onnxruntime (onnxruntime-gpu for CUDA/TensorRT)")
        cfg = cfg or EngineConfig()
        path = Path(onnx_path)
        if not path.is_file():
            raise EngineError(f"ONNX file not found: {path}")
        providers = resolve_providers(cfg.ort_providers, ort.get_available_providers())
        options = ort.SessionOptions()
        if cfg.intra_op_threads:
            options.intra_op_num_threads = cfg.intra_op_threads
        self.session = ort.InferenceSession(
            str(path), sess_options=options, providers=providers,
            provider_options=[_provider_options(p, cfg, cache_dir) for p in providers])
        self.providers = self.session.get_providers()
        log.info("ONNX Runtime session for %s on %s", path.name, self.providers)
        self._inputs = [_spec(a) for a in self.session.get_inputs()]
        self._outputs = [_spec(a) for a in self.session.get_outputs()]

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = [s.name for s in self._outputs]
        return dict(zip(names, self.session.run(names, feeds)))

    def close(self) -> None:
        self.session = None
