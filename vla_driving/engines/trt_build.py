"""Build TensorRT plans from ONNX (fp32 / fp16 / int8 with entropy calibration and a cache).

Written against the TensorRT 10 Python API: explicit-batch networks (`create_network(0)`),
`build_serialized_network`, memory-pool limits and named optimisation profiles.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

import numpy as np

from vla_driving.engines.base import EngineError, require
from vla_driving.engines.engine_cache import Profile
from vla_driving.engines.trt_engine import tensorrt_module

log = logging.getLogger(__name__)


def make_calibrator(batches: Iterable[dict[str, np.ndarray]], cache_path: Path,
                    batch_size: int):
    """An `IInt8EntropyCalibrator2` over dataset batches, reading/writing `cache_path`.

    With a cache file present TensorRT skips the batches and reuses the stored scales.
    Implicit int8 calibration is deprecated since TensorRT 10.1 (explicit Q/DQ quantization
    supersedes it) but still supported throughout 10.x.
    """
    trt = tensorrt_module()
    torch = require("torch", "torch")

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            trt.IInt8EntropyCalibrator2.__init__(self)  # the binding needs the explicit call
            self.batches = iter(batches)
            self.device_buffers: list = []

        def get_batch_size(self) -> int:
            return batch_size

        def get_batch(self, names):
            batch = next(self.batches, None)
            if batch is None:
                return None
            self.device_buffers = [torch.from_numpy(np.ascontiguousarray(batch[n])).cuda()
                                   for n in names]
            return [int(t.data_ptr()) for t in self.device_buffers]

        def read_calibration_cache(self):
            return cache_path.read_bytes() if cache_path.is_file() else None

        def write_calibration_cache(self, cache) -> None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache_path.write_bytes(bytes(cache))

    return EntropyCalibrator()


def _parse_onnx(trt, builder, logger, onnx_path: Path):
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineError(f"TensorRT could not parse {onnx_path}: {errors}")
    return network, parser


def build_plan(onnx_path: str | Path, precision: str, profile: Profile, workspace_mb: int,
               calibrator=None) -> bytes:
    """Serialized plan of `onnx_path`; `calibrator` is required for int8."""
    trt = tensorrt_module()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network, _parser = _parse_onnx(trt, builder, logger, Path(onnx_path))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mb << 20)
    opt_profile = builder.create_optimization_profile()
    for name, shape_min, shape_opt, shape_max in profile:
        opt_profile.set_shape(name, shape_min, shape_opt, shape_max)
    config.add_optimization_profile(opt_profile)
    if precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)
    if precision == "int8":
        if calibrator is None:
            raise EngineError("int8 build needs calibration frames (a calibrator)")
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = calibrator
        config.set_calibration_profile(opt_profile)
    log.info("building TensorRT %s plan from %s", precision, onnx_path)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise EngineError(f"TensorRT failed to build a {precision} plan from {onnx_path}")
    return bytes(plan)
