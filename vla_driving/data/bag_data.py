"""What reading a bag gives: its data per kind (`BagData`) and the report of what was kept,
skipped or missing against what the bag's metadata announces (`ReadReport`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from vla_driving.data.labels import OdomTrack


class BagError(RuntimeError):
    """The bag cannot be opened at all (missing, not a rosbag2, unknown storage)."""


@dataclass
class ReadReport:
    path: str
    storage: str = ""
    counts: dict = field(default_factory=dict)          # topic -> messages kept
    expected: dict = field(default_factory=dict)        # topic -> count in the bag's metadata
    skipped: Counter = field(default_factory=Counter)   # (topic, reason) -> messages
    missing_topics: list = field(default_factory=list)  # configured vehicle topics absent
    absent_optional: list = field(default_factory=list)  # ground-truth topics absent (car bags)
    absent_references: list = field(default_factory=list)  # reference-text topics absent
    notes: list = field(default_factory=list)
    span_s: float = 0.0
    metadata_span_s: float = 0.0
    truncated: bool = False

    def mismatches(self) -> list[str]:
        out = []
        for topic, n in sorted(self.expected.items()):
            got = self.counts.get(topic, 0)
            if got != n:
                out.append(f"{topic}: metadata says {n} messages, kept {got}")
        if self.metadata_span_s and abs(self.metadata_span_s - self.span_s) > 1.0:
            out.append(f"time span: metadata says {self.metadata_span_s:.2f} s, "
                       f"read {self.span_s:.2f} s")
        return out

    def lines(self) -> list[str]:
        out = [f"{self.path} ({self.storage}): " + ", ".join(
            f"{t}={n}" for t, n in sorted(self.counts.items()))]
        out += [f"missing topic {t}" for t in self.missing_topics]
        if self.absent_optional:
            out.append(f"no ground truth topics ({len(self.absent_optional)} absent): "
                       "no QA, description or collision labels")
        if self.absent_references:
            out.append(f"no reference texts ({', '.join(self.absent_references)} absent): "
                       "scene text and QA cannot be scored")
        out += [f"skipped {n} on {t}: {r}" for (t, r), n in sorted(self.skipped.items())]
        return out + self.mismatches() + self.notes


@dataclass
class BagData:
    """What a bag holds, per kind, with stamps in ns (message header time when set)."""

    path: str
    odometry: OdomTrack | None = None
    yaw_rate: np.ndarray | None = None
    images: dict = field(default_factory=dict)        # camera -> [(stamp, format, bytes)]
    instructions: list = field(default_factory=list)  # [(stamp, text)]
    completed: list = field(default_factory=list)     # [(stamp, bool)]
    collision: list = field(default_factory=list)     # [(stamp, bool)]
    agents: list = field(default_factory=list)        # [(stamp, dict)]
    lanes: list | None = None
    episode: dict | None = None
    expert_futures: list = field(default_factory=list)  # [(stamp, {t_ns, x, y, yaw, speed})]
    references: dict = field(default_factory=dict)      # kind -> {frame stamp: text or QA}
    camera_infos: dict = field(default_factory=dict)    # camera -> CameraInfoFields (first)
    report: ReadReport | None = None
