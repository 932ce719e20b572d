"""`eval replay --llm-kernel`: the GPTQ kernel a replay runs the shipped INT4 LLM with."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from vla_driving.apps.eval_replay import _policies, add_arguments
from vla_driving.config_cli import config_from_args
from vla_driving.engines.gptq_dequantized import DequantizedLinear
from vla_driving.evaluation.replay import ReplayConfig

BUNDLE = Path(__file__).resolve().parents[2] / "models" / "default"


def _parse(*argv: str) -> ReplayConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["bag", *argv])
    return config_from_args(ReplayConfig, args)


def _dequantized_layers(policy) -> int:
    return sum(isinstance(m, DequantizedLinear) for m in policy.bundle.model.modules())


def test_the_kernel_option_reaches_the_models_llm():
    pytest.importorskip("gptqmodel")
    default, gptqmodel = _parse(), _parse("--llm-kernel", "torch")
    assert (default.llm_kernel, gptqmodel.llm_kernel) == ("default", "torch")
    policies = [_policies(str(BUNDLE), cfg)["model"] for cfg in (default, gptqmodel)]
    try:
        assert _dequantized_layers(policies[0]) > 0      # the CPU default unpacks at load
        assert _dequantized_layers(policies[1]) == 0     # GPTQModel's own kernel
    finally:
        for p in policies:
            p.close()


def test_an_unknown_kernel_is_refused():
    with pytest.raises(SystemExit):
        _parse("--llm-kernel", "marlin")
