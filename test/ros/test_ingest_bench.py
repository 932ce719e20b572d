"""`vla-driving bench ingest` end to end on a tiny load: the table and the JSON figures.
(Throughput is judged from the full benchmark's output, never asserted here.)"""

import argparse
import json

import pytest

pytestmark = pytest.mark.ros


def test_bench_ingest_writes_consistent_figures(tmp_path, capsys):
    from vla_driving.apps import bench_ingest

    parser = argparse.ArgumentParser()
    bench_ingest.add_arguments(parser)
    out = tmp_path / "ingest.json"
    args = parser.parse_args(["--duration", "1.5", "--cameras", "2", "--rate", "10",
                              "--width", "32", "--height", "24", "--json", str(out)])
    assert bench_ingest.main(args) == 0
    figures = json.loads(out.read_text())
    table = capsys.readouterr().out
    assert "synchronised sets" in table and "decode+sync per image" in table
    assert figures["cameras"] == 2 and set(figures["per_camera"]) == {"cam0", "cam1"}
    for camera in figures["per_camera"].values():
        assert camera["published"] == figures["ticks_published"] > 0
        assert camera["received"] + camera["lost_in_transport"] == camera["published"]
    assert 0 < figures["synchronised_sets"] <= figures["ticks_published"]
    assert figures["decode_sync_ms"]["p50"] <= figures["decode_sync_ms"]["max"]
