"""Pick and build the encoder engine named by config, with a logged fallback order.

`auto` tries TensorRT (plan from the engine cache, built on a miss), then ONNX Runtime (its
providers in config order). Each backend module is imported only when it is tried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from vla_driving.engines.base import (DYNAMIC, Engine, EngineError, MissingDependencyError,
                                      TensorSpec)
from vla_driving.engines.config import EngineConfig
from vla_driving.bundle import sha256_file
from vla_driving.engines.engine_cache import EngineCache, EngineKey, Profile, make_profile

log = logging.getLogger(__name__)


@dataclass
class Calibration:
    """int8 calibration input: a factory of feed batches and the hash of the frames used."""

    batches: Callable[[], Iterable[dict[str, np.ndarray]]]
    sha256: str
    batch_size: int


def profile_for(inputs: list[TensorSpec], cfg: EngineConfig) -> Profile:
    """Optimisation profile: batch (the first dynamic dim) from config, other dims fixed."""
    shapes = {}
    for spec in inputs:
        if any(d == DYNAMIC for d in spec.shape[1:]):
            raise EngineError(f"input '{spec.name}' {spec.shape}: only the batch may be dynamic")
        rest = tuple(spec.shape[1:])
        shapes[spec.name] = tuple((b, *rest) for b in (cfg.min_batch, cfg.opt_batch,
                                                        cfg.max_batch))
    return make_profile(shapes)


def engine_key(onnx_path: Path, inputs: list[TensorSpec], cfg: EngineConfig,
               tensorrt_version: str, capability: str, calibration_sha256: str = "") -> EngineKey:
    return EngineKey(onnx_sha256=sha256_file(onnx_path), tensorrt_version=tensorrt_version,
                     compute_capability=capability, precision=cfg.precision,
                     profile=profile_for(inputs, cfg),
                     calibration_sha256=calibration_sha256 if cfg.precision == "int8" else "")


def ensure_trt_plan(onnx_path: Path, inputs: list[TensorSpec], cfg: EngineConfig,
                    cache_dir: Path, calibration: Calibration | None = None
                    ) -> tuple[bytes, Path, bool]:
    """(plan, path, built): the cached plan for this exact key, built on a miss."""
    from vla_driving.engines import trt_build
    from vla_driving.engines.trt_engine import compute_capability, tensorrt_module

    trt = tensorrt_module()
    calibrate = cfg.precision == "int8" and trt_build.implicit_int8(trt)   # TensorRT 10
    if calibrate and calibration is None:
        raise EngineError("precision int8 needs calibration frames (pass --data)")
    key = engine_key(onnx_path, inputs, cfg, trt.__version__, compute_capability(cfg.device_id),
                     calibration.sha256 if calibrate and calibration else "")
    cache = EngineCache(cache_dir)
    stem = onnx_path.stem

    def build() -> bytes:
        calibrator = None
        if calibrate:
            calibrator = trt_build.make_calibrator(
                calibration.batches(), cache.path_for(stem, key).with_suffix(".calib"),
                calibration.batch_size)
        return trt_build.build_plan(onnx_path, cfg.precision, key.profile, cfg.workspace_mb,
                                    calibrator)

    plan, built = cache.get_or_build(stem, key, build)
    return plan, cache.path_for(stem, key), built


def _tensorrt(onnx_path: Path, inputs: list[TensorSpec], cfg: EngineConfig,
              cache_dir: Path) -> Engine:
    from vla_driving.engines.trt_engine import TrtEngine

    plan, _, _ = ensure_trt_plan(onnx_path, inputs, cfg, cache_dir)
    return TrtEngine(plan, cfg.device_id)


def _onnxruntime(onnx_path: Path, inputs: list[TensorSpec], cfg: EngineConfig,
                 cache_dir: Path) -> Engine:
    from vla_driving.engines.ort_engine import OrtEngine

    return OrtEngine(onnx_path, cfg, cache_dir / "ort_trt")


BACKEND_FACTORIES = {"tensorrt": _tensorrt, "onnxruntime": _onnxruntime}
AUTO_ORDER = ("tensorrt", "onnxruntime")


def create_engine(onnx_path: str | Path, inputs: list[TensorSpec], cfg: EngineConfig,
                  cache_dir: str | Path, torch_factory: Callable[[], Engine] | None = None
                  ) -> Engine:
    """The engine for `cfg.backend`; `auto` falls back in `AUTO_ORDER`, logging each reason."""
    onnx_path, cache_dir = Path(onnx_path), Path(cache_dir)
    if cfg.backend == "torch":
        if torch_factory is None:
            raise EngineError("backend torch needs the torch weights of the encoder")
        return torch_factory()
    if cfg.backend != "auto":
        return BACKEND_FACTORIES[cfg.backend](onnx_path, inputs, cfg, cache_dir)
    reasons = []
    for name in AUTO_ORDER:
        try:
            return BACKEND_FACTORIES[name](onnx_path, inputs, cfg, cache_dir)
        except (EngineError, MissingDependencyError) as exc:
            log.info("backend %s unavailable (%s), trying the next", name, exc)
            reasons.append(f"{name}: {exc}")
    raise EngineError("no encoder backend could start: " + " | ".join(reasons))
