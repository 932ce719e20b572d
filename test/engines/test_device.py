"""Device choice is configuration, resolved in one module (`engines.device`)."""

import pytest
import torch

from vla_driving.configuration import ConfigError
from vla_driving.engines.base import EngineError
from vla_driving.engines.config import EngineConfig
from vla_driving.engines.device import resolve_device
from vla_driving.policy.planner_config import PlannerConfig


def test_auto_follows_what_torch_sees():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_a_cuda_request_without_a_gpu_is_a_clear_error():
    with pytest.raises(EngineError, match="'cuda:1': no CUDA GPU is visible"):
        resolve_device("cuda:1")


def test_bad_device_strings_are_refused_by_the_config():
    with pytest.raises(ConfigError, match="device='gpu0': expected auto, cpu, cuda or cuda:N"):
        EngineConfig(device="gpu0")
    with pytest.raises(EngineError, match="expected auto"):
        resolve_device("tpu")


def test_the_planner_config_carries_the_engine_choice():
    cfg = PlannerConfig.from_dict({"engine": {"backend": "onnxruntime", "device": "cpu",
                                              "ort_providers": ["cpu"]}})
    assert (cfg.engine.backend, cfg.engine.device, cfg.engine.ort_providers) == \
        ("onnxruntime", "cpu", ["cpu"])
    assert any(name == "engine.device" and default == "auto"
               for name, default, _ in PlannerConfig.describe())
