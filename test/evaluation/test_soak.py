"""The soak bench (issue 19, soak): routes chained with successive seeds over the span, a window
every N simulated seconds, RSS growth read against the first window, the CLI's JSON."""

import argparse
import json

import pytest

from vla_driving.apps import bench_soak
from vla_driving.evaluation.soak import SoakResult, SoakWindow, rss_bytes, run_soak
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.resources import package_file

MIB = 2**20


def test_rss_is_read_from_this_process():
    assert 10 * MIB < rss_bytes() < 64 * 2**30


def test_summary_reads_growth_against_the_first_window_and_latency_drift():
    result = SoakResult(start_rss_bytes=50 * MIB, routes=[{"ended_by": "time"}] * 2 +
                        [{"ended_by": "collision"}])
    for i, (rss, p50) in enumerate([(100, 10.0), (103, 11.0), (104, 12.0)]):
        result.windows.append(SoakWindow(60.0 * (i + 1), 10.0 * (i + 1), rss * MIB, 100, p50,
                                         2 * p50, i + 1))
    s = result.summary()
    assert s["rss_growth_pct"] == pytest.approx(4.0)          # not (104 - 50) / 50: warm-up
    assert s["start_rss_mb"] == 50 and s["peak_rss_mb"] == 104 and s["plans"] == 300
    assert s["first_p50_ms"] == 10.0 and s["p50_drift_pct"] == pytest.approx(20.0)
    assert s["ended_by"] == {"time": 2, "collision": 1}
    assert "OVER TARGET" not in bench_soak.summary_table(s, 5.0)
    assert "OVER TARGET" in bench_soak.summary_table(s, 3.0)


def test_soak_chains_routes_with_successive_seeds_and_samples_every_window():
    rss = iter(range(100 * MIB, 200 * MIB, MIB))
    seen = []
    result = run_soak(ConstantVelocityPolicy(), span_s=3.0, sample_every_s=1.0, route_s=1.5,
                      rss=lambda: next(rss), on_window=seen.append)
    assert [r["seed"] for r in result.routes] == [1000, 1001]
    assert sum(r["sim_s"] for r in result.routes) == pytest.approx(3.0)
    assert [round(w.sim_s, 3) for w in result.windows] == [1.0, 2.0, 3.0]
    assert seen == result.windows and [w.route for w in result.windows] == [1, 2, 2]
    assert all(w.plans >= 5 and w.p50_ms > 0 for w in result.windows)   # 10 camera sets/s
    assert result.summary()["rss_growth_pct"] == pytest.approx(200 / 101)   # 101 -> 103 MiB


def test_soak_refuses_an_empty_span():
    with pytest.raises(ValueError, match="must be > 0"):
        run_soak(ConstantVelocityPolicy(), span_s=0.0, sample_every_s=1.0)


def _args(*argv):
    parser = argparse.ArgumentParser()
    bench_soak.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_prints_the_windows_and_writes_the_json(tmp_path, capsys):
    out = tmp_path / "soak.json"
    rc = bench_soak.main(_args("--baseline", "--sim-minutes", "0.05", "--sample-every", "1",
                               "--route-s", "2", "--max-rss-growth", "1000", "--json", str(out)))
    assert rc == 0
    text = capsys.readouterr().out
    assert "RSS growth after warm-up" in text and "latency p50 first / last window" in text
    doc = json.loads(out.read_text())
    assert len(doc["windows"]) == 3 and len(doc["routes"]) == 2
    assert doc["settings"]["baseline"] is True and doc["summary"]["plans"] > 0


@pytest.mark.slow
def test_the_default_bundle_soaks_for_half_a_simulated_minute(tmp_path):
    if not (package_file("models/default") / "manifest.json").is_file():
        pytest.skip("models/default is not built")
    out = tmp_path / "soak.json"
    bench_soak.main(_args("--sim-minutes", "0.5", "--sample-every", "10", "--json", str(out)))
    summary = json.loads(out.read_text())["summary"]
    assert summary["windows"] == 3 and summary["plans"] >= 250
    assert summary["first_p50_ms"] > 0 and summary["last_p50_ms"] > 0
