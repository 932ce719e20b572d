"""Read a rosbag2 (sqlite3 or MCAP, a bag folder or a bare .db3/.mcap file) with `rosbags`.

Nothing is dropped silently: every message not kept is counted in the report with its reason
(truncated file, undecodable message, out-of-order or duplicate stamp), configured topics that
are absent are named, and what was read is compared with what the bag's metadata announces.
Nothing is written beside the input (see `bag_open`).
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from vla_driving.constants import NS_PER_S
from vla_driving.data import bag_open
from vla_driving.data import references as refs
from vla_driving.data.bag_data import BagData, BagError, ReadReport
from vla_driving.data.labels import OdomTrack
from vla_driving.data.topics import BagTopics
from vla_driving.sensors.camera_info import CameraInfoFields, camera_info_mismatch

log = logging.getLogger(__name__)
CAMERA_STOP_TOLERANCE_S = 1.0
REQUIRED_KINDS = ("odometry", "image", "instruction")   # what a vehicle records
ROLLOUT_KINDS = ("expert_future",)                      # only DAgger episodes carry these
REFERENCE_KINDS = refs.KINDS                            # simulator bags with reference texts
CAMERA_INFO_KIND = "camera_info"                        # perspective cameras only, never missed


def _stamp(msg, fallback: int) -> int:
    header = getattr(msg, "header", None)
    if header is None:
        return fallback
    ns = int(header.stamp.sec) * NS_PER_S + int(header.stamp.nanosec)
    return ns or fallback


def _image(msg) -> tuple[str, bytes]:
    if hasattr(msg, "format"):
        return str(msg.format), bytes(msg.data)
    return f"raw:{msg.encoding}:{msg.height}:{msg.width}:{msg.step}", bytes(msg.data)


def _open(path: Path):
    from rosbags.rosbag2 import Reader

    try:
        reader = Reader(path)
        reader.open()
    except Exception as exc:  # rosbags raises several types for a bad bag
        raise BagError(f"cannot open {path} as a rosbag2: {exc}") from exc
    return reader


def _storage(path: Path) -> str:
    files = [path] if path.is_file() else list(path.iterdir())
    return "mcap" if any(f.suffix == ".mcap" for f in files) else "sqlite3"


def _typestore():
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS2_HUMBLE)


def _iter_messages(reader, conns, report: ReadReport):
    """Yield (conn, bag_time, raw); a truncated or corrupt file ends the stream with a note."""
    read = 0
    try:
        for conn, t, raw in reader.messages(connections=conns):
            read += 1
            yield conn, t, raw
    except Exception as exc:  # corrupt chunk, truncated file, malformed database
        report.truncated = True
        report.notes.append(f"bag unreadable after {read} messages ({type(exc).__name__}: "
                            f"{exc}); kept what was read")


def read_bag(path: str | Path, topics: BagTopics | None = None) -> BagData:
    """Read the configured topics of one bag; see `BagData.report` for what was skipped."""
    topics, path = topics or BagTopics(), Path(path)
    if not path.exists():
        raise BagError(f"bag not found: {path}")
    report = ReadReport(str(path), storage=_storage(path))
    data = BagData(str(path), report=report)
    with tempfile.TemporaryDirectory(prefix="vla-bag-") as tmp:
        _read_into(bag_open.with_wal_applied(path, Path(tmp), report.notes), _wanted(topics),
                   data, report)
    _check_cameras(data, report)
    return data


def _read_into(path: Path, want: dict, data: BagData, report: ReadReport) -> None:
    try:
        reader = _open(bag_open.reader_path(path))
    except BagError as exc:
        _read_salvaged(path, want, data, report, exc)
        return
    try:
        _read_with(reader, want, data, report)
    finally:
        reader.close()


def _no_configured_topics(path: str, want: dict, present: dict[str, str]) -> BagError:
    """One line: none of the configured topics is in the bag, and the topics it has."""
    have = ", ".join(f"{t} ({present[t]})" for t in sorted(present)) or "no topics"
    return BagError(f"{path}: none of the configured topics ({', '.join(sorted(want))}) is in "
                    f"the bag; it has: {have}")


def _read_with(reader, want: dict, data: BagData, report: ReadReport) -> None:
    _set_missing(want, {c.topic for c in reader.connections}, report)
    conns = [c for c in reader.connections if c.topic in want]
    if not conns:   # rosbags reads an empty connection list as "every topic"
        raise _no_configured_topics(data.path, want,
                                    {c.topic: c.msgtype for c in reader.connections})
    _set_expected(reader, want, report)
    conns = bag_open.pair_by_topic_and_type(reader, conns, report.notes)
    store = _typestore()
    _register_embedded(store, conns, report)
    stream = ((c.topic, c.msgtype, t, raw) for c, t, raw in _iter_messages(reader, conns, report))
    _consume(stream, want, data, report, store)


def _set_expected(reader, want: dict, report: ReadReport) -> None:
    """What metadata.yaml announces; a bare file has none (rosbags counts the file itself)."""
    if not bag_open.has_metadata(Path(reader.path)):
        report.notes.append("no metadata.yaml: counts and time span not checked against one")
        return
    report.expected = {t: info.msgcount for t, info in reader.topics.items() if t in want}
    unread = [t for t, info in reader.topics.items() if info.msgcount and t not in want]
    if reader.message_count and not unread:   # the metadata's span covers every topic
        report.metadata_span_s = reader.duration / NS_PER_S


def _register_embedded(store, conns, report: ReadReport) -> None:
    """Types the bag defines itself (MCAP schemas, rosbag2 type descriptions) that the Humble
    store lacks are registered from their embedded definitions before anything is decoded."""
    from rosbags.interfaces import MessageDefinitionFormat
    from rosbags.typesys import get_types_from_idl, get_types_from_msg

    for conn in conns:
        definition = getattr(conn, "msgdef", None)
        if conn.msgtype in store.types or definition is None or not definition.data:
            continue
        try:
            if definition.format == MessageDefinitionFormat.IDL:
                types = get_types_from_idl(definition.data)
            else:
                types = get_types_from_msg(definition.data, conn.msgtype)
            store.register(types)
            report.notes.append(f"{conn.topic}: type {conn.msgtype} registered from the bag's "
                                "own definition")
        except Exception as exc:  # a definition rosbags cannot parse: decoding will say so
            first = (str(exc).strip().splitlines() or [""])[0]   # rosbags quotes it whole
            report.notes.append(f"{conn.topic}: the bag's definition of {conn.msgtype} could "
                                f"not be read ({type(exc).__name__}: {first})")


def _read_salvaged(path: Path, want: dict, data: BagData, report: ReadReport, why) -> None:
    from vla_driving.data.salvage import Salvage

    try:
        salvage = Salvage(path)
    except FileNotFoundError:
        raise why from None
    seen: dict[str, str] = {}
    stream = ((topic, kind, t, raw) for topic, kind, t, raw in salvage
              if seen.setdefault(topic, kind) is not None and topic in want)
    _consume(stream, want, data, report)
    if seen and not set(seen) & set(want):
        raise _no_configured_topics(data.path, want, seen)
    _set_missing(want, seen, report)
    stopped = f"stopped at: {salvage.stopped or 'end of file'}"
    if path.is_dir() and not bag_open.has_metadata(path) and len(salvage.files) > 1:
        report.truncated = bool(salvage.stopped)   # several files and no index: not damage
        report.notes.append(f"no metadata.yaml and {len(salvage.files)} storage files: read "
                            f"one after another, {stopped}")
        return
    report.truncated = True
    report.notes.append(f"bag could not be opened normally ({why}); salvaged "
                        f"{sum(report.counts.values())} messages, {stopped}")


def _consume(stream, want: dict, data: BagData, report: ReadReport, store=None) -> None:
    store, last, odom, bag_times = store or _typestore(), {}, [], []
    for topic, msgtype, t, raw in stream:
        name = _known_name(store, msgtype)
        if name is None:
            report.skipped[(topic, f"unknown type {msgtype}: not a ROS 2 Humble type and no "
                                   "definition of it was read from the bag")] += 1
            continue
        try:
            msg = store.deserialize_cdr(raw, name)
        except Exception as exc:
            report.skipped[(topic, f"undecodable {msgtype}: {type(exc).__name__}")] += 1
            continue
        stamp = _stamp(msg, t)
        if stamp <= last.get(topic, -1):
            reason = "duplicate stamp" if stamp == last[topic] else "out-of-order stamp"
            report.skipped[(topic, reason)] += 1
            continue
        last[topic] = stamp
        try:
            _store(want[topic], stamp, msg, data, odom)
        except ValueError as exc:   # malformed JSON payload
            report.skipped[(topic, f"malformed {want[topic][0]}: {exc}")] += 1
            continue
        except (AttributeError, TypeError) as exc:   # a message type that cannot be this kind
            report.skipped[(topic, f"{msgtype} cannot serve as {want[topic][0]} "
                                   f"({type(exc).__name__}: {exc})")] += 1
            continue
        bag_times.append(t)
        report.counts[topic] = report.counts.get(topic, 0) + 1
    if bag_times:
        report.span_s = (max(bag_times) - min(bag_times)) / NS_PER_S
    _finish_odometry(odom, data, report)


def _known_name(store, msgtype: str) -> str | None:
    """The store's name for a bag's type, None when unknown; `pkg/Type` (ROS 1 style, as in
    rosbag2's own seek test bag) is registered from its definition as `pkg/msg/Type`."""
    if msgtype in store.types:
        return msgtype
    parts = msgtype.split("/")
    ros2 = f"{parts[0]}/msg/{parts[1]}" if len(parts) == 2 else ""
    return ros2 if ros2 in store.types else None


def _set_missing(want: dict, present: set, report: ReadReport) -> None:
    absent = [t for t in want if t not in present and want[t][0] != CAMERA_INFO_KIND]
    report.missing_topics = [t for t in absent if want[t][0] in REQUIRED_KINDS]
    report.absent_optional = [t for t in absent if want[t][0] not in
                              REQUIRED_KINDS + ROLLOUT_KINDS + REFERENCE_KINDS]
    report.absent_references = [t for t in absent if want[t][0] in REFERENCE_KINDS]


def _wanted(topics: BagTopics) -> dict[str, tuple[str, str]]:
    want = {topics.odometry: ("odometry", "")}
    want.update({t: ("image", c) for c, t in zip(topics.cameras, topics.camera_topics)})
    want.update({camera_info_beside(t): (CAMERA_INFO_KIND, c)
                 for c, t in zip(topics.cameras, topics.camera_topics)})
    for kind in ("instruction", "agents", "lanes", "collision", "completed", "episode",
                 "expert_future") + REFERENCE_KINDS:
        name = getattr(topics, kind)
        if name:
            want[name] = (kind, "")
    return want


def _store(kind_cam, stamp: int, msg, data: BagData, odom: list) -> None:
    kind, camera = kind_cam
    if kind == "odometry":
        # nav_msgs/Odometry, or a pose alone (PoseStamped, PoseWithCovarianceStamped): speed
        # and yaw rate then come from the poses (NaN marks them absent)
        pose = msg.pose.pose if hasattr(msg.pose, "pose") else msg.pose
        p, q = pose.position, pose.orientation
        yaw = np.arctan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z))
        tw = msg.twist.twist if hasattr(msg, "twist") else None
        odom.append((stamp, p.x, p.y, yaw) + ((np.hypot(tw.linear.x, tw.linear.y), tw.angular.z)
                                              if tw is not None else (np.nan, np.nan)))
    elif kind == "image":
        data.images.setdefault(camera, []).append((stamp, *_image(msg)))
    elif kind == CAMERA_INFO_KIND:
        data.camera_infos.setdefault(camera, CameraInfoFields(
            int(msg.width), int(msg.height), tuple(float(v) for v in msg.k)))
    elif kind == "instruction":
        data.instructions.append((stamp, str(msg.data)))
    elif kind in ("completed", "collision"):
        getattr(data, kind).append((stamp, bool(msg.data)))
    elif kind == "agents":
        data.agents.append((stamp, json.loads(msg.data)))
    elif kind == "lanes":
        data.lanes = json.loads(msg.data)
    elif kind == "episode":
        data.episode = json.loads(msg.data)
    elif kind == "expert_future":
        data.expert_futures.append((stamp, json.loads(msg.data)))
    elif kind in REFERENCE_KINDS:
        frame, value = refs.parse_reference(kind, msg.data, stamp)
        data.references.setdefault(kind, {})[frame] = value


def _finish_odometry(odom: list, data: BagData, report: ReadReport) -> None:
    if len(odom) < 2:
        report.notes.append(f"only {len(odom)} odometry message(s): no labels can be derived")
        return
    a = np.array(odom, dtype=np.float64)
    t_ns = np.array([o[0] for o in odom], dtype=np.int64)
    twist = not np.isnan(a[:, 4]).any()
    speed = a[:, 4] if twist and np.any(a[:, 4] > 0) else None   # no twist: from positions
    data.odometry = OdomTrack.from_arrays(t_ns, a[:, 1], a[:, 2], a[:, 3], speed)
    data.yaw_rate = a[:, 5] if twist else None
    if not twist:
        report.notes.append("odometry without twist (poses only): speed and yaw rate derived "
                            "from the poses")


def camera_info_beside(image_topic: str) -> str:
    """Where a camera's CameraInfo sits (image_transport, carla-ros-bridge): beside its image
    topic, `<ns>/image[/compressed]` -> `<ns>/camera_info`."""
    base = image_topic.removesuffix("/compressed")
    return base.rsplit("/", 1)[0] + "/camera_info" if "/" in base else "camera_info"


def _image_size(fmt: str, payload: bytes) -> tuple[int, int]:
    if fmt.startswith("raw:"):
        _, _, h, w, _ = fmt.split(":")
        return int(w), int(h)
    from PIL import Image

    with Image.open(io.BytesIO(payload)) as img:    # reads the header only
        return img.size


def _check_camera_infos(data: BagData) -> None:
    """A CameraInfo that describes another image size than its camera's frames: one line."""
    for camera, info in data.camera_infos.items():
        frames = data.images.get(camera)
        if frames:
            try:
                width, height = _image_size(frames[0][1], frames[0][2])
            except Exception:     # noqa: BLE001 - undecodable frames are the loader's to report
                continue
            why = camera_info_mismatch(camera, info, width, height)
            if why:
                raise BagError(f"{data.path}: {why}")


def _check_cameras(data: BagData, report: ReadReport) -> None:
    _check_camera_infos(data)
    if not data.images:
        report.notes.append("no camera frames: samples carry trajectories and controls only")
        return
    if data.odometry is None:
        return
    end = data.odometry.t_ns[-1]
    for camera, frames in data.images.items():
        gap = (end - frames[-1][0]) / NS_PER_S
        if gap > CAMERA_STOP_TOLERANCE_S:
            report.notes.append(f"camera {camera} stops {gap:.2f} s before the odometry ends; "
                                f"later frames have no {camera} image")
