"""The report directory: metrics.json, report.md, PNG figures and a readable MCAP, none empty."""

import json

import numpy as np
import pytest

from vla_driving.evaluation.mcap_export import McapFrame
from vla_driving.evaluation.report import (
    FIGURE_BEV, FIGURE_CORRUPTIONS, FIGURE_HORIZON, FIGURE_LATENCY, MCAP_DIR, METRICS_JSON,
    REPORT_MD, write_report)
from vla_driving.evaluation.summary import EvalSample
from vla_driving.meta_action import MetaAction
from vla_driving.types import ControlSignals, Plan

STEPS = np.arange(1, 7)[:, None] * np.array([[5.0, 0.0]])


def _plan(stamp, offset):
    c = ControlSignals(10.0 + offset, 0.0, 0.0, 0.0)
    return Plan(stamp_ns=stamp, waypoints=STEPS + [0.0, offset], controls=c, next_controls=c,
                meta_action=MetaAction("constant_speed", "straight"), latency_s={"infer": 0.002})


def _samples(offset, n=5):
    boxes = np.full((6, 1, 5), np.nan)
    boxes[:, 0] = [20.0, 3.5, 0.0, 5.0, 2.0]
    return [EvalSample(stamp_ns=i * 10**8, episode="ep0", plan=_plan(i * 10**8, offset),
                       true_waypoints=STEPS, true_controls=np.array([10.0, 0, 0, 0]),
                       true_meta=MetaAction("constant_speed", "straight"), agent_boxes=boxes)
            for i in range(n)]


@pytest.fixture
def report_dir(tmp_path):
    runs = {"clean": {"model": _samples(0.5), "constant_velocity": _samples(1.0)},
            "fog@3": {"model": _samples(1.5), "constant_velocity": _samples(2.0)}}
    image = np.zeros((32, 32, 3), np.uint8)
    frames = [McapFrame(stamp_ns=s.stamp_ns, images={"bev_near": image},
                        plans={"model": s.plan}, true_waypoints=s.true_waypoints)
              for s in runs["clean"]["model"]]
    doc = write_report(tmp_path / "r", runs, {"title": "test", "seed": 0}, mcap_frames=frames)
    return tmp_path / "r", doc


def test_files_are_produced_and_not_empty(report_dir):
    out, _ = report_dir
    for name in (METRICS_JSON, REPORT_MD, FIGURE_BEV, FIGURE_HORIZON, FIGURE_LATENCY,
                 FIGURE_CORRUPTIONS):
        assert (out / name).stat().st_size > 200, name
    assert (out / FIGURE_BEV).read_bytes()[:4] == b"\x89PNG"
    assert "| clean | model |" in (out / REPORT_MD).read_text()


def test_metrics_json_holds_every_condition(report_dir):
    out, doc = report_dir
    loaded = json.loads((out / METRICS_JSON).read_text())
    assert loaded == doc
    model = loaded["results"]["clean"]["model"]
    assert model["l2_m"]["uniad"]["3s"] == pytest.approx(0.5)
    assert loaded["results"]["fog@3"]["constant_velocity"]["l2_m"]["stp3"]["1s"] == \
        pytest.approx(2.0)
    assert model["drops"]["dropped"] == 0


def test_mcap_opens_with_inputs_paths_and_decisions(report_dir):
    from rosbags.highlevel import AnyReader
    out, _ = report_dir
    with AnyReader([out / MCAP_DIR]) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        assert topics["/eval/bev_near/image/compressed"] == "sensor_msgs/msg/CompressedImage"
        assert topics["/eval/model/path"] == "nav_msgs/msg/Path"
        assert topics["/eval/model/decision"] == "std_msgs/msg/String"
        paths = [reader.deserialize(raw, c.msgtype) for c, _, raw in reader.messages()
                 if c.topic == "/eval/model/path"]
    assert len(paths) == 5
    assert paths[0].poses[-1].pose.position.x == pytest.approx(30.0)
    assert paths[0].poses[-1].pose.position.y == pytest.approx(0.5)


def test_mcap_is_a_ros2_profile_file_with_embedded_schemas(report_dir):
    """What Foxglove needs to decode it: ros2 profile, ros2msg schemas, CDR channels."""
    from mcap.reader import make_reader
    out, _ = report_dir
    (path,) = (out / MCAP_DIR).glob("*.mcap")
    with path.open("rb") as fh:
        reader = make_reader(fh)
        assert reader.get_header().profile == "ros2"
        summary = reader.get_summary()
    assert {s.encoding for s in summary.schemas.values()} == {"ros2msg"}
    assert all(len(s.data) > 0 for s in summary.schemas.values())
    assert {c.message_encoding for c in summary.channels.values()} == {"cdr"}


def test_every_number_names_its_convention(report_dir):
    out, doc = report_dir
    text = (out / REPORT_MD).read_text()
    for conv in ("uniad", "stp3", "vad", "swept"):
        assert f"| {conv} |" in text and f"- `{conv}`:" in text
    assert "UniAD planning_metrics.py" in text and "VAD metric_stp3.py" in text
    model = doc["results"]["clean"]["model"]
    assert set(model["collision_rate"]) >= {"uniad", "vad", "swept", "samples"}
    assert model["meta_action"]["type_accuracy"] == pytest.approx(1.0)


def test_frames_at_the_end_of_an_episode_count_in_uniad_only():
    from vla_driving.evaluation.summary import summarise
    done = _samples(1.0, n=2)                     # complete futures: 1 m off at every step
    tail = EvalSample(stamp_ns=9 * 10**8, episode="ep0", plan=_plan(9 * 10**8, 1.0),
                      future_waypoints=np.where(np.arange(6)[:, None] < 2, STEPS, np.nan),
                      future_valid=np.arange(6) < 2)   # 1.0 s left in the episode
    m = summarise(done + [tail])
    assert m["l2_m"]["samples"] == {"uniad": 3, "stp3": 2}
    assert m["l2_m"]["uniad"]["1s"] == pytest.approx(1.0)           # 3 errors of 1 m / 3
    assert m["l2_m"]["uniad"]["3s"] == pytest.approx(2 / 3)         # the tail adds 0, counts
    assert m["l2_m"]["stp3"]["3s"] == pytest.approx(1.0)
    assert m["meta_action"]["weighted_accuracy"] == pytest.approx(1.0)   # labelled frames only
