"""Engine cache: a plan is found only for the exact key it was built with; stale ones rebuild."""

import dataclasses
import json

import pytest

from vla_driving.engines.base import DYNAMIC, EngineError, TensorSpec
from vla_driving.engines.config import EngineConfig
from vla_driving.engines.engine_cache import EngineCache, EngineKey, make_profile
from vla_driving.engines.registry import engine_key, profile_for

INPUTS = [TensorSpec("images", "float32", (DYNAMIC, 4, 3, 32, 32))]


def _key(**changes) -> EngineKey:
    base = EngineKey(onnx_sha256="a" * 64, tensorrt_version="10.3.0", compute_capability="8.7",
                     precision="fp16", profile=profile_for(INPUTS, EngineConfig()))
    return dataclasses.replace(base, **changes)


class Builder:
    def __init__(self):
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return b"plan-%d" % self.calls


def test_second_lookup_with_same_key_loads_instead_of_building(tmp_path):
    cache, build = EngineCache(tmp_path), Builder()
    first, built1 = cache.get_or_build("encoder", _key(), build)
    second, built2 = cache.get_or_build("encoder", _key(), build)
    assert (built1, built2) == (True, False)
    assert first == second == b"plan-1" and build.calls == 1


@pytest.mark.parametrize("change", [
    {"onnx_sha256": "b" * 64},
    {"tensorrt_version": "10.4.0"},
    {"compute_capability": "9.0"},
    {"precision": "int8"},
    {"profile": make_profile({"images": ((1, 4, 3, 32, 32), (2, 4, 3, 32, 32),
                                         (8, 4, 3, 32, 32))})},
    {"calibration_sha256": "c" * 64},
])
def test_any_key_field_change_rebuilds(tmp_path, change):
    cache, build = EngineCache(tmp_path), Builder()
    cache.get_or_build("encoder", _key(), build)
    plan, built = cache.get_or_build("encoder", _key(**change), build)
    assert built and plan == b"plan-2"
    assert _key(**change).digest() != _key().digest()


def test_plan_whose_stored_key_differs_is_not_loaded(tmp_path):
    cache, build = EngineCache(tmp_path), Builder()
    cache.get_or_build("encoder", _key(), build)
    key_file = cache.path_for("encoder", _key()).with_suffix(".key.json")
    stored = json.loads(key_file.read_text())
    stored["tensorrt_version"] = "8.6.1"  # e.g. copied over from another machine
    key_file.write_text(json.dumps(stored))
    assert cache.load("encoder", _key()) is None
    _, built = cache.get_or_build("encoder", _key(), build)
    assert built and build.calls == 2


def test_plan_without_its_key_file_is_not_loaded(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store("encoder", _key(), b"plan")
    cache.path_for("encoder", _key()).with_suffix(".key.json").unlink()
    assert cache.load("encoder", _key()) is None


def test_profile_takes_batch_from_config_and_fixes_other_dims():
    cfg = EngineConfig(min_batch=1, opt_batch=2, max_batch=8)
    ((name, lo, opt, hi),) = profile_for(INPUTS, cfg)
    assert name == "images"
    assert (lo, opt, hi) == ((1, 4, 3, 32, 32), (2, 4, 3, 32, 32), (8, 4, 3, 32, 32))


def test_profile_refuses_dynamic_non_batch_dims():
    with pytest.raises(EngineError, match="only the batch may be dynamic"):
        profile_for([TensorSpec("images", "float32", (DYNAMIC, 4, 3, DYNAMIC, 32))],
                    EngineConfig())


def test_engine_key_hashes_the_onnx_file_and_uses_calibration_only_for_int8(tmp_path):
    onnx = tmp_path / "encoder.onnx"
    onnx.write_bytes(b"model-v1")
    fp16 = engine_key(onnx, INPUTS, EngineConfig(precision="fp16"), "10.3", "8.7", "cal")
    int8 = engine_key(onnx, INPUTS, EngineConfig(precision="int8"), "10.3", "8.7", "cal")
    assert fp16.calibration_sha256 == "" and int8.calibration_sha256 == "cal"
    onnx.write_bytes(b"model-v2")
    assert engine_key(onnx, INPUTS, EngineConfig(precision="fp16"), "10.3", "8.7").onnx_sha256 \
        != fp16.onnx_sha256


class FakeTensorRT:
    """Stands in for the `tensorrt` module, which cannot run on this GPU-less machine."""

    def __init__(self, version: str):
        self.__version__ = version


def test_ensure_trt_plan_rebuilds_when_tensorrt_or_gpu_changes(tmp_path, monkeypatch):
    from vla_driving.engines import registry, trt_build, trt_engine

    onnx = tmp_path / "encoder.onnx"
    onnx.write_bytes(b"onnx")
    builds = []
    monkeypatch.setattr(trt_build, "build_plan",
                        lambda path, precision, profile, mb, calibrator=None:
                        builds.append(precision) or b"plan-%d" % len(builds))
    env = {"version": "10.3.0", "sm": "8.7"}
    monkeypatch.setattr(trt_engine, "tensorrt_module", lambda: FakeTensorRT(env["version"]))
    monkeypatch.setattr(trt_engine, "compute_capability", lambda device_id=0: env["sm"])
    cfg, cache = EngineConfig(precision="fp16"), tmp_path / "engines"
    assert registry.ensure_trt_plan(onnx, INPUTS, cfg, cache)[2] is True
    assert registry.ensure_trt_plan(onnx, INPUTS, cfg, cache)[2] is False
    env["version"] = "10.4.0"                                   # TensorRT upgraded
    assert registry.ensure_trt_plan(onnx, INPUTS, cfg, cache)[2] is True
    env["sm"] = "9.0"                                           # plan copied to another GPU
    assert registry.ensure_trt_plan(onnx, INPUTS, cfg, cache)[2] is True
    assert len(builds) == 3
    with pytest.raises(EngineError, match="int8 needs calibration"):
        registry.ensure_trt_plan(onnx, INPUTS, EngineConfig(precision="int8"), cache)
