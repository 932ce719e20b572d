"""Reference texts into a finished simulator bag: `add_reference_texts(bag_path)`.

The justification names the meta-action, which depends on the future (unknown while an episode
is written), so the texts are added after the bag is closed: it is read back as the dataset
reads it (`read_bag` + `build_samples`, labels from the driven odometry or, in DAgger bags, from
`/sim/expert/future`), every labelled frame is annotated with the dataset's own `annotate`, and
the bag is rewritten with the texts on `/sim/reference/{description,justification,qa}` (see
`vla_driving.data.references`). The other messages are copied unchanged, in order.
"""

from __future__ import annotations

import heapq
import shutil
from pathlib import Path

from rosbags.rosbag2 import Reader, StoragePlugin, Writer

from vla_driving.data import BagTopics, LabelConfig, build_samples, read_bag
from vla_driving.data import references as refs
from vla_driving.data.topics import (CARLA_PREFIX, TOPIC_REF_DESCRIPTION, TOPIC_REF_JUSTIFICATION,
                                     TOPIC_REF_QA)

from . import messages as M
from .text import annotate

REFERENCE_TOPICS = (TOPIC_REF_DESCRIPTION, TOPIC_REF_JUSTIFICATION, TOPIC_REF_QA)
_CAMERA_PREFIX, _CAMERA_SUFFIX = f"{CARLA_PREFIX}/", "/image/compressed"


def bag_cameras(reader: Reader) -> list[str]:
    """Camera names of a bag's compressed image topics (carla-ros-bridge layout), sorted."""
    return sorted(c.topic[len(_CAMERA_PREFIX):-len(_CAMERA_SUFFIX)] for c in reader.connections
                  if c.topic.startswith(_CAMERA_PREFIX) and c.topic.endswith(_CAMERA_SUFFIX))


def reference_messages(path: Path, cameras: list[str], seed: int = 0,
                       labels: LabelConfig | None = None) -> list[tuple[int, str, str]]:
    """(stamp, topic, JSON) of every labelled frame's caption, justification and QA rounds,
    exactly the texts the training dataset derives for these frames (same episode name, seed)."""
    bag = read_bag(path, BagTopics().for_cameras(cameras) if cameras else BagTopics())
    samples, _ = build_samples(bag, cameras, labels, episode=path.name)
    out = []
    for s in samples:
        text = annotate(s, bag.lanes, seed)
        if text.description:
            out.append((s.stamp_ns, TOPIC_REF_DESCRIPTION, refs.text_json(s.stamp_ns,
                                                                          text.description)))
        out.append((s.stamp_ns, TOPIC_REF_JUSTIFICATION, refs.text_json(s.stamp_ns,
                                                                        text.justification)))
        if text.qa:
            out.append((s.stamp_ns, TOPIC_REF_QA, refs.qa_json(s.stamp_ns, text.qa)))
    return out


def add_reference_texts(bag_path: str | Path, seed: int = 0,
                        labels: LabelConfig | None = None) -> int:
    """Annotate every labelled frame of a finished simulator bag (generator or DAgger) and
    rewrite it with the reference-text topics (replacing any it had); returns the number of
    frames annotated. `seed` is the phrasing seed (the dataset's `qa_seed`, 0 by default)."""
    path = Path(bag_path)
    if not path.is_dir():
        raise ValueError(f"{path}: expected a rosbag2 folder")
    with Reader(path) as reader:
        cameras = bag_cameras(reader)
    extra = reference_messages(path, cameras, seed, labels)
    _rewrite(path, extra)
    return len({stamp for stamp, _, _ in extra})


def _storage(path: Path) -> StoragePlugin:
    return StoragePlugin.MCAP if any(path.glob("*.mcap")) else StoragePlugin.SQLITE3


def _add(writer: Writer, topic: str, msgtype: str, source=None):
    if msgtype in M.STORE.types:   # as the generator adds them: same metadata either way
        return writer.add_connection(topic, msgtype, typestore=M.STORE)
    return writer.add_connection(topic, msgtype, msgdef=source.msgdef.data, rihs01=source.digest,
                                 serialization_format=source.ext.serialization_format,
                                 offered_qos_profiles=source.ext.offered_qos_profiles)


def _rewrite(path: Path, extra: list[tuple[int, str, str]]) -> None:
    """Copy the bag without old reference topics plus `extra` (after the messages of the same
    stamp), into a sibling folder that then replaces it."""
    tmp, old = path.with_name(path.name + ".rewrite"), path.with_name(path.name + ".old")
    for leftover in (tmp, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    with Reader(path) as reader, Writer(tmp, version=M.BAG_VERSION,
                                        storage_plugin=_storage(path)) as writer:
        kept = [c for c in reader.connections if c.topic not in REFERENCE_TOPICS]
        conns = {c.id: _add(writer, c.topic, c.msgtype, c) for c in kept}
        new = {t: _add(writer, t, M.STRING) for t in REFERENCE_TOPICS
               if any(topic == t for _, topic, _ in extra)}
        original = ((t, 0, i, conns[c.id], raw)
                    for i, (c, t, raw) in enumerate(reader.messages(connections=kept)))
        added = ((stamp, 1, i, new[topic], M.serialize(M.string(data), M.STRING))
                 for i, (stamp, topic, data) in enumerate(sorted(extra)))
        for t, _, _, conn, raw in heapq.merge(original, added, key=lambda m: m[:3]):
            writer.write(conn, t, raw)
    path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old)
