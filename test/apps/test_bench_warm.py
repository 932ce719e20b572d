"""bench warm (issue 21, item 1): one run's figures on the tiny bundle, and the medians."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))

from tiny_bundle_builder import build_tiny_bundle  # noqa: E402

from vla_driving.apps import bench_warm  # noqa: E402

pytest.importorskip("torch")


def test_a_warm_run_reports_its_warm_up_and_first_plan(tmp_path):
    run = bench_warm.measure(str(build_tiny_bundle(tmp_path)), "warm", bench_warm.STEADY_SKIP + 2)
    assert run["warm_up_ms"] > 0 and run["cycles"] == bench_warm.STEADY_SKIP + 2
    assert run["ratio"] == pytest.approx(run["first_plan_ms"] / run["steady_p50_ms"])


def test_summary_takes_medians_per_mode():
    runs = [{"mode": m, "first_plan_ms": f, "steady_p50_ms": 10.0, "ratio": f / 10.0,
             "warm_up_ms": w} for m, f, w in (("cold", 90.0, 0.0), ("warm", 12.0, 80.0),
                                               ("cold", 70.0, 0.0), ("warm", 14.0, 60.0),
                                               ("cold", 80.0, 0.0), ("warm", 16.0, 70.0))]
    out = bench_warm.summary(runs)
    assert out["first_plan_cold_ms"] == 80.0 and out["ratio_warm"] == pytest.approx(1.4)
    assert out["warm_up_warm_ms"] == 70.0 and out["steady_p50_warm_ms"] == 10.0
