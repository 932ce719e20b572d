"""TensorRT 10 and 11 plan building, against a stand-in `tensorrt` module (runs without a GPU).

The stand-in records what the builder was asked; the calls are those of the two majors' Python
APIs (11 removed BuilderFlag.FP16 / INT8 and implicit INT8 calibration: strongly typed only).
"""

from pathlib import Path
from types import SimpleNamespace

import pytest

from vla_driving.engines import trt_build
from vla_driving.engines.base import EngineError

PROFILE = [("images", (1, 3, 8, 8), (1, 3, 8, 8), (2, 3, 8, 8))]


class Layer:
    def __init__(self, kind: str, dtype: str):
        self.type, self.num_outputs = kind, 1
        self._out = SimpleNamespace(dtype=dtype)

    def get_output(self, index):
        return self._out


def fake_tensorrt(version: str, layers: list[Layer]):
    flags = []
    network = SimpleNamespace(num_layers=len(layers), get_layer=layers.__getitem__)
    config = SimpleNamespace(set_memory_pool_limit=lambda *a: None,
                             add_optimization_profile=lambda p: None,
                             set_flag=flags.append, set_calibration_profile=lambda p: None)
    builder = SimpleNamespace(
        create_network=lambda flags: network, create_builder_config=lambda: config,
        create_optimization_profile=lambda: SimpleNamespace(set_shape=lambda *a: None),
        build_serialized_network=lambda net, cfg: b"plan")
    parser = SimpleNamespace(parse_from_file=lambda path: True, num_errors=0)
    trt = SimpleNamespace(
        __version__=version, Logger=lambda level=None: None, Builder=lambda logger: builder,
        OnnxParser=lambda net, logger: parser,
        MemoryPoolType=SimpleNamespace(WORKSPACE="workspace"),
        BuilderFlag=SimpleNamespace(FP16="FP16", INT8="INT8"),
        LayerType=SimpleNamespace(QUANTIZE="Q", DEQUANTIZE="DQ", CONVOLUTION="CONV"),
        DataType=SimpleNamespace(HALF="half", FLOAT="float"))
    trt.Logger.WARNING = 0
    if version.startswith("10."):
        trt.IInt8EntropyCalibrator2 = object
    return trt, flags


@pytest.fixture
def use(monkeypatch):
    def install(version, layers):
        trt, flags = fake_tensorrt(version, layers)
        monkeypatch.setattr(trt_build, "tensorrt_module", lambda: trt)
        return trt, flags
    return install


FP32 = [Layer("CONV", "float")]
FP16 = [Layer("CONV", "half")]
QDQ = [Layer("Q", "float"), Layer("DQ", "float"), Layer("CONV", "float")]


def build(precision, calibrator=None):
    return trt_build.build_plan(Path("enc.onnx"), precision, PROFILE, 64, calibrator)


def test_tensorrt_10_sets_the_precision_flags(use):
    _, flags = use("10.13.0", FP32)
    assert build("fp16") == b"plan" and flags == ["FP16"]
    _, flags = use("10.13.0", FP32)
    assert build("int8", calibrator=object()) == b"plan" and flags == ["FP16", "INT8"]


def test_tensorrt_11_builds_typed_networks_without_flags(use):
    _, flags = use("11.4.0.106", FP32)
    assert build("fp32") == b"plan" and flags == []
    _, flags = use("11.4.0.106", FP16)
    assert build("fp16") == b"plan" and flags == []
    _, flags = use("11.4.0.106", QDQ)
    assert build("int8") == b"plan" and flags == []


def test_tensorrt_11_refuses_precisions_the_onnx_does_not_carry(use):
    use("11.4.0.106", FP32)
    with pytest.raises(EngineError, match="modelopt.onnx.autocast"):
        build("fp16")
    with pytest.raises(EngineError, match="Q/DQ"):
        build("int8")


def test_implicit_calibration_only_before_11(use):
    trt, _ = use("11.0.1", FP32)
    assert not trt_build.implicit_int8(trt)
    with pytest.raises(EngineError, match="implicit INT8 calibration was removed"):
        trt_build.make_calibrator(iter([]), Path("x.calib"), 1)
    trt, _ = use("10.1.0", FP32)
    assert trt_build.implicit_int8(trt)


@pytest.mark.parametrize("version", ["8.6.1", "12.0.0", "dev"])
def test_other_versions_are_refused_by_name(use, version):
    trt, _ = use(version, FP32)
    with pytest.raises(EngineError, match=version):
        trt_build.tensorrt_major(trt)
