"""Reference texts in simulator bags: the generator's and a DAgger rollout's bags carry, for every
labelled frame, exactly the caption, justification and QA rounds the training dataset derives;
the runtime reader finds them without the training package; car bags have none and say so."""

import hashlib

import pytest
from rosbags.rosbag2 import Reader

from vla_driving.data import read_bag
from vla_driving.data import references as refs
from vla_driving.data.topics import (TOPIC_REF_DESCRIPTION, TOPIC_REF_JUSTIFICATION, TOPIC_REF_QA,
                                     TOPIC_SIM_AGENTS)
from vla_driving.sim import SimConfig
from vla_driving_training.data.dataset import DatasetConfig, DrivingDataset
from vla_driving_training.data.episode import EpisodeSpec, run_episode
from vla_driving_training.data.gen_config import GenerateConfig
from vla_driving_training.data.references import add_reference_texts

CFG = GenerateConfig(sim=SimConfig(image_size=32), episode_s=6.0)


def message_hashes(path) -> dict:
    out = {}
    with Reader(path) as reader:
        for conn, t, raw in reader.messages():
            out.setdefault(conn.topic, hashlib.sha256()).update(f"{t}".encode() + bytes(raw))
    return {k: v.hexdigest() for k, v in out.items()}


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    return run_episode(EpisodeSpec("merge", 0, 7), tmp_path_factory.mktemp("gen"), CFG)


def test_every_labelled_frame_has_the_datasets_own_texts(episode):
    bag = read_bag(episode["path"])
    ds = DrivingDataset([episode["path"]], DatasetConfig(image_size=32))
    assert len(ds) > 20 and bag.report.absent_references == []
    counts = bag.report.counts
    assert counts[TOPIC_REF_JUSTIFICATION] == counts[TOPIC_REF_QA] == len(ds)
    assert counts[TOPIC_REF_DESCRIPTION] == len(ds)
    for i in range(0, len(ds), 7):
        item = ds[i]
        ref = refs.references_at(bag.references, item["stamp_ns"])
        assert ref.description == item["description"] != ""
        assert ref.justification == item["justification"] != ""
        assert list(ref.qa) == [tuple(r) for r in item["qa"]] != []
    # the last 3 s have no label (no recorded future), hence no reference either
    last = bag.images["bev_near"][-1][0]
    assert refs.references_at(bag.references, last) is None


def test_rewriting_keeps_every_other_message_and_is_idempotent(episode, tmp_path):
    import shutil

    copy = tmp_path / episode["episode"]   # the QA phrasing is seeded by the episode name
    shutil.copytree(episode["path"], copy)
    before = message_hashes(copy)
    frames = add_reference_texts(copy)
    after = message_hashes(copy)
    assert after == before and frames > 20      # the same texts, no duplicates
    assert after[TOPIC_SIM_AGENTS] == before[TOPIC_SIM_AGENTS]
    assert sorted(p.name for p in tmp_path.iterdir()) == [episode["episode"]]   # no leftovers


def test_a_dagger_bag_gets_the_justification_of_the_experts_label(tmp_path):
    from vla_driving.evaluation.closed_loop import ClosedLoopConfig
    from vla_driving_training.dagger.rollout import RolloutTask, run_rollout

    task = RolloutTask("highway", 4242, "slow_down", 0.0, 0, str(tmp_path),
                       (("policy", "constant_velocity"),), label_every_s=0.5)
    row = run_rollout(ClosedLoopConfig(duration_s=4.0).to_dict(), task)
    assert add_reference_texts(row["path"]) == len(read_bag(row["path"]).expert_futures)
    bag = read_bag(row["path"])
    ds = DrivingDataset([row["path"]], DatasetConfig(image_size=32))
    slowing = 0
    for i in range(len(ds)):
        _, sample = ds.sample(i)
        ref = refs.references_at(bag.references, sample.stamp_ns)
        assert ref.justification == ds[i]["justification"]
        slowing += sample.labels.meta.speed in ("decelerate", "quick_decelerate")
        if sample.labels.meta.speed == "quick_decelerate":
            assert ref.justification.startswith("The car brakes hard")
    # the driver held its speed (constant velocity); the labels and texts are the expert's
    assert slowing >= len(ds) // 2


def write_car_bag(path, reference: str | None = None):
    """Odometry and one camera at 10 Hz for 2 s, no ground truth; `reference` adds one
    /sim/reference/qa message with that payload."""
    import numpy as np
    from rosbags.rosbag2 import Writer

    from vla_driving.data.images import encode_jpeg
    from vla_driving.data.topics import camera_topic
    from vla_driving_training.data import messages as M

    jpeg = encode_jpeg(np.full((16, 16, 3), 90, np.uint8))
    with Writer(path, version=9) as w:
        odom = w.add_connection("/carla/ego_vehicle/odometry", M.ODOMETRY, typestore=M.STORE)
        cam = w.add_connection(camera_topic("bev_near"), M.COMPRESSED_IMAGE, typestore=M.STORE)
        qa = w.add_connection(TOPIC_REF_QA, M.STRING, typestore=M.STORE) if reference else None
        for i in range(20):
            t = 10**18 + i * 10**8
            w.write(odom, t, M.serialize(M.odometry(t, 0.5 * i, 0, 0, 5.0, 0), M.ODOMETRY))
            w.write(cam, t, M.serialize(M.compressed_image(t, "bev_near", jpeg),
                                        M.COMPRESSED_IMAGE))
            if qa is not None:
                w.write(qa, t, M.serialize(M.string(reference if i == 3 else
                                                    refs.qa_json(t, [("q", "a")])), M.STRING))
    return path


def test_a_car_bag_has_no_references_and_the_report_says_so(tmp_path):
    bag = read_bag(write_car_bag(tmp_path / "car"))
    assert bag.references == {}
    assert set(bag.report.absent_references) == {TOPIC_REF_DESCRIPTION, TOPIC_REF_JUSTIFICATION,
                                                 TOPIC_REF_QA}
    assert bag.report.absent_optional and TOPIC_REF_QA not in bag.report.absent_optional
    assert any("no reference texts" in line for line in bag.report.lines())


def test_a_malformed_reference_message_is_skipped_and_counted(tmp_path):
    bag = read_bag(write_car_bag(tmp_path / "bad", '{"qa": [["only a question"]]}'))
    assert len(bag.references[refs.QA]) == 19
    assert bag.report.counts[TOPIC_REF_QA] == 19
    (topic, reason), n = next(iter(bag.report.skipped.items()))
    assert topic == TOPIC_REF_QA and n == 1 and reason.startswith("malformed reference_qa")
    with pytest.raises(ValueError):
        refs.parse_reference(refs.DESCRIPTION, '{"text": 3}', 0)
    assert refs.parse_reference(refs.QA, refs.qa_json(5, [("q", "a")]), 9) == (5, (("q", "a"),))
