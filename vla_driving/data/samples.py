"""The one sample schema of both sources, and its construction from a read bag.

A sample is anchored at a frame time (the first camera's stamps; the odometry resampled at
`label_rate_hz` when a bag has no cameras). Anchors that cannot be labelled are counted with
their reason, like the reader's skipped messages.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from vla_driving.constants import NS_PER_S
from vla_driving.sensors.odometry import OdometryFields, ego_from_odometry
from vla_driving.data.bag_data import BagData
from vla_driving.data.label_config import LabelConfig
from vla_driving.data.labels import FrameLabels, labels_at, with_future

SYNC_TOLERANCE_S = 0.05
LABEL_RATE_HZ = 10.0


@dataclass
class Sample:
    episode: str
    stamp_ns: int
    labels: FrameLabels
    images: dict = field(default_factory=dict)     # camera -> (format, bytes); {} without cameras
    instruction: str = ""
    instruction_completed: bool = False
    ground_truth: dict | None = None               # agents + road context at this frame
    collision: bool = False
    pose: tuple = (0.0, 0.0, 0.0)                  # odometry x, y, yaw at the stamp (world)


@dataclass
class SampleReport:
    episode: str
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    has_frames: bool = True

    def lines(self) -> list[str]:
        head = f"{self.episode}: {self.kept} samples" + ("" if self.has_frames else
                                                          " (no camera frames)")
        return [head] + [f"  skipped {n} anchors: {r}" for r, n in sorted(self.skipped.items())]


def _latest(items: list, stamp: int, tolerance_ns: int | None = None):
    """Value of the last (stamp, value) at or before `stamp` (within tolerance when given)."""
    i = bisect_right([s for s, *_ in items], stamp) - 1
    if i < 0 or (tolerance_ns is not None and stamp - items[i][0] > tolerance_ns):
        return None
    return items[i]


def _nearest(frames: list, stamp: int, tolerance_ns: int):
    stamps = np.array([f[0] for f in frames], dtype=np.int64)
    i = int(np.argmin(np.abs(stamps - stamp)))
    return frames[i] if abs(int(stamps[i]) - stamp) <= tolerance_ns else None


def anchors(bag: BagData, cameras: list[str], rate_hz: float = LABEL_RATE_HZ) -> list[int]:
    if cameras and bag.images.get(cameras[0]):
        return [f[0] for f in bag.images[cameras[0]]]
    if bag.odometry is None:
        return []
    t = bag.odometry.t_ns
    return list(range(int(t[0]), int(t[-1]) + 1, int(NS_PER_S / rate_hz)))


def runtime_ego(bag: BagData) -> np.ndarray:
    """(N, 3) speed, yaw rate, acceleration per odometry message, as the planner computes them.

    The model's ego input must be what `Ingest` hands the policy at run time: the odometry's own
    speed and yaw rate, and the causal smoothed speed derivative of `ego_from_odometry`. The
    labels' central differences look 0.15 s ahead, which a running car cannot.
    """
    track = bag.odometry
    yaw_rate = bag.yaw_rate if bag.yaw_rate is not None else np.gradient(track.yaw, track.t_s)
    out, ego = np.zeros((len(track.t_ns), 3), dtype=np.float32), None
    for k, t in enumerate(track.t_ns):
        half = 0.5 * float(track.yaw[k])
        ego = ego_from_odometry(OdometryFields(int(t), float(track.x[k]), float(track.y[k]), 0.0,
                                               0.0, np.sin(half), np.cos(half),
                                               float(track.speed[k]), 0.0,
                                               float(yaw_rate[k])), ego)
        out[k] = (ego.speed, ego.yaw_rate, ego.acceleration)
    return out


def build_samples(bag: BagData, cameras: list[str], cfg: LabelConfig | None = None,
                  episode: str | None = None) -> tuple[list[Sample], SampleReport]:
    """Labelled samples of one bag; `cameras` are required per sample when the bag has frames."""
    cfg = cfg or LabelConfig()
    episode = episode or bag.path
    report = SampleReport(episode, has_frames=bool(bag.images))
    if bag.odometry is None:
        report.skipped["no odometry"] += 1
        return [], report
    tol = int(SYNC_TOLERANCE_S * NS_PER_S)
    ego = runtime_ego(bag)
    out = []
    futures = bag.expert_futures   # a DAgger episode: only frames the expert labelled
    for stamp in anchors(bag, cameras):
        images, missing = {}, None
        if bag.images:
            for cam in cameras:
                frame = _nearest(bag.images[cam], stamp, tol) if bag.images.get(cam) else None
                if frame is None:
                    missing = cam
                    break
                images[cam] = (frame[1], frame[2])
        if missing:
            report.skipped[f"no {missing} frame within {SYNC_TOLERANCE_S} s"] += 1
            continue
        track = bag.odometry
        if futures:
            future = _latest(futures, stamp, tol)
            if future is None:
                report.skipped["no expert future at this frame (DAgger episode)"] += 1
                continue
            track = with_future(track, future[1])
        labels = labels_at(track, stamp, cfg)
        if labels is None:
            report.skipped["future horizon not recorded (episode end or odometry gap)"] += 1
            continue
        # the last odometry at or before the frame, as the planner pairs them
        k = max(0, int(np.searchsorted(bag.odometry.t_ns, stamp, side="right")) - 1)
        labels = replace(labels, ego=ego[k].copy())
        out.append(_sample(bag, episode, stamp, labels, images, tol))
    report.kept = len(out)
    return out, report


def _sample(bag: BagData, episode: str, stamp: int, labels, images: dict, tol: int) -> Sample:
    instr = _latest(bag.instructions, stamp)
    done = _latest(bag.completed, stamp, tol)
    gt = _latest(bag.agents, stamp, tol)
    crash = _latest(bag.collision, stamp, tol)
    t = np.array([(stamp - int(bag.odometry.t_ns[0])) / NS_PER_S])
    x, y, yaw, _ = (float(v[0]) for v in bag.odometry.at(t))
    return Sample(episode, stamp, labels, images, instr[1] if instr else "",
                  bool(done[1]) if done else False, gt[1] if gt else None,
                  bool(crash[1]) if crash else False, (x, y, yaw))
