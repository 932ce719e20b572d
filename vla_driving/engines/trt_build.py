"""Build TensorRT plans from ONNX (fp32 / fp16 / int8 with entropy calibration and a cache).

TensorRT 10 and 11. Both: explicit-batch networks (`create_network(0)`),
`build_serialized_network`, memory-pool limits and named optimisation profiles. TensorRT 11
removed weak typing: no `BuilderFlag.FP16` / `INT8`, no implicit INT8 calibration
(`IInt8EntropyCalibrator2`, `int8_calibrator`, `set_calibration_profile`); every network is
strongly typed, so the ONNX itself must carry its precision (fp16 tensors from ModelOpt AutoCast,
Q/DQ nodes from explicit quantization). With 11, fp16 and int8 are built from such an ONNX and
refused with the reason otherwise (`auto` then falls back to ONNX Runtime).
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
SUPPORTED_MAJORS = (10, 11)
WEAKLY_TYPED_UNTIL = 10      # the last major with precision flags and implicit calibration
AUTOCAST_HINT = ("convert the ONNX first (ModelOpt AutoCast: python -m modelopt.onnx.autocast "
                 "--onnx_path IN --output_path OUT --low_precision_type fp16 --keep_io_types)")
QDQ_HINT = ("quantize the ONNX with Q/DQ nodes first (ModelOpt explicit quantization); "
            "implicit INT8 calibration was removed in TensorRT 11")


def tensorrt_major(trt) -> int:
    """The installed TensorRT's major version; an unsupported one is an `EngineError`."""
    try:
        major = int(str(trt.__version__).split(".")[0])
    except ValueError:
        raise EngineError(f"unrecognised TensorRT version {trt.__version__!r}") from None
    if major not in SUPPORTED_MAJORS:
        raise EngineError(f"TensorRT {trt.__version__} is not supported (majors "
                          f"{', '.join(map(str, SUPPORTED_MAJORS))})")
    return major


def implicit_int8(trt) -> bool:
    """Whether this TensorRT calibrates INT8 itself (10.x) or needs a Q/DQ ONNX (11.x)."""
    return tensorrt_major(trt) <= WEAKLY_TYPED_UNTIL


def make_calibrator(batches: Iterable[dict[str, np.ndarray]], cache_path: Path,
                    batch_size: int):
    """An `IInt8EntropyCalibrator2` over dataset batches, reading/writing `cache_path`.

    With a cache file present TensorRT skips the batches and reuses the stored scales.
    Implicit int8 calibration is deprecated since TensorRT 10.1 (explicit Q/DQ quantization
    supersedes it) but still supported throughout 10.x.
    """
    trt = tensorrt_module()
    if not implicit_int8(trt):
        raise EngineError(f"TensorRT {trt.__version__}: {QDQ_HINT}")
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


def network_types(trt, network) -> tuple[bool, bool]:
    """(has half-precision tensors, has Q/DQ layers): what a strongly typed build will use."""
    half = quantized = False
    qdq = {trt.LayerType.QUANTIZE, trt.LayerType.DEQUANTIZE}
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        quantized = quantized or layer.type in qdq
        half = half or any(layer.get_output(k).dtype == trt.DataType.HALF
                           for k in range(layer.num_outputs))
    return half, quantized


def _check_strongly_typed(trt, network, precision: str, onnx_path: Path) -> None:
    """TensorRT 11: the precision asked for must be in the ONNX already."""
    half, quantized = network_types(trt, network)
    if precision == "fp16" and not half:
        raise EngineError(f"TensorRT {trt.__version__} builds {onnx_path.name} as typed (fp32): "
                          f"for fp16, {AUTOCAST_HINT}, or choose precision fp32")
    if precision == "int8" and not quantized:
        raise EngineError(f"TensorRT {trt.__version__}: {onnx_path.name} has no Q/DQ nodes: "
                          f"{QDQ_HINT}")


def build_plan(onnx_path: str | Path, precision: str, profile: Profile, workspace_mb: int,
               calibrator=None) -> bytes:
    """Serialized plan of `onnx_path`; TensorRT 10 needs `calibrator` for int8, TensorRT 11 a
    Q/DQ ONNX instead (and an fp16 ONNX for fp16)."""
    trt = tensorrt_module()
    weak = tensorrt_major(trt) <= WEAKLY_TYPED_UNTIL
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network, _parser = _parse_onnx(trt, builder, logger, Path(onnx_path))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mb << 20)
    opt_profile = builder.create_optimization_profile()
    for name, shape_min, shape_opt, shape_max in profile:
        opt_profile.set_shape(name, shape_min, shape_opt, shape_max)
    config.add_optimization_profile(opt_profile)
    if not weak:
        _check_strongly_typed(trt, network, precision, Path(onnx_path))
    elif precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)
    if weak and precision == "int8":
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
