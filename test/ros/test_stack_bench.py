"""Smoke test of `vla-driving bench stack` (figures come from the benchmark, not from here)."""

import json

import pytest
from stack_test_helpers import SIM_YAML

pytestmark = pytest.mark.ros


def test_bench_stack_writes_its_figures(tmp_path, capsys):
    from vla_driving.apps.cli import main
    out = tmp_path / "bench.json"
    assert main(["bench", "stack", "--bundle", "constant_velocity", "--config", str(SIM_YAML),
                 "--duration", "2.5", "--no-bridge-process", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["planner_cycles"] > 5 and summary["planner_errors"] == 0
    assert {"infer", "node_cycle", "total_from_receipt"} <= set(summary["planner_ms"])
    assert summary["controller"]["ticks"] > 10 and summary["node_overhead"] > 0
    assert "node overhead" in capsys.readouterr().out
