"""bench all: one JSON whose headline keys are found wherever each bench put them."""

import json

from vla_driving.apps import bench_all
from vla_driving.apps.cli import main as cli_main


def test_headline_reads_each_bench_where_it_writes():
    benches = {"gpu": {"first_plan_ms": 12.0, "steady_infer_p50_ms": 3.5, "device": "cpu"},
               "stack": {"node_overhead": 1.07, "node_overhead_target": 1.1},
               "replay": {"replay_x_realtime": 4.0}, "fast_loop": {"fast_loop_x_realtime": 2.0},
               "warm": {"first_plan_warm_ms": 5.0, "ratio_warm": 1.2, "ratio_cold": 9.0}}
    assert bench_all.headline(benches) == {
        "first_plan_ms": 12.0, "steady_infer_p50_ms": 3.5, "device": "cpu",
        "first_plan_warm_ms": 5.0, "first_plan_ratio_warm": 1.2, "first_plan_ratio_cold": 9.0,
        "replay_x_realtime": 4.0, "fast_loop_x_realtime": 2.0, "node_overhead": 1.07}
    assert bench_all.headline({})["replay_x_realtime"] is None


def test_a_failing_bench_is_recorded_and_the_json_still_written(tmp_path, capsys):
    out = tmp_path / "all.json"
    rc = cli_main(["bench", "all", "--json", str(out), "--only", "engines",
                   "--bundle", str(tmp_path / "no_bundle")])
    doc = json.loads(out.read_text())
    assert rc == 1 and "error" in doc["benches"]["engines"]
    assert set(doc) >= {"first_plan_ms", "steady_infer_p50_ms", "replay_x_realtime", "benches"}
    assert "bench engines" in capsys.readouterr().out
