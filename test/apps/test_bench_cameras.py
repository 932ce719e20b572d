"""`vla-driving bench cameras` end to end on a tiny run: its table and JSON figures."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("panda3d", reason="panda3d not installed (the `sim` extra)")


def test_bench_cameras_prints_the_table_and_writes_the_figures(tmp_path):
    out = tmp_path / "cameras.json"
    sample = tmp_path / "sample.png"
    run = subprocess.run([sys.executable, "-m", "vla_driving.apps.bench_cameras", "--routes", "1",
                          "--seconds", "0.5", "--modes", "sim", "perspective", "--width", "64",
                          "--height", "36", "--repeats", "1", "--json", str(out), "--sample", str(sample),
                          "--sample-s", "0.2"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "x real time" in run.stdout and "perspective" in run.stdout
    runs = {r["mode"]: r for r in json.loads(out.read_text())["modes"]}
    assert runs["sim"]["frames"] == 0 and runs["perspective"]["frames"] == 5
    assert runs["perspective"]["steps"] == 5 and runs["perspective"]["render_ms_p50"] > 0
    from PIL import Image
    assert Image.open(sample).size == (4 * 64, 36)    # the four rig cameras side by side
