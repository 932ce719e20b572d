"""Scoring of the running nodes' outputs during a live bag replay (ROS-free).

The planner publishes its trajectory (nav_msgs/Path, stamped with the source image time) and its
decision (JSON with the same stamp, meta-action and controls); `LiveOutputs` pairs them by
stamp and turns them into `Plan`s, which are scored against the bag's labels at those stamps
exactly like the deterministic replay. Every anchor camera frame of the bag is an input, so
frames the nodes did not plan on count as drops.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from vla_driving.constants import NUM_WAYPOINTS
from vla_driving.data.bag_data import BagData
from vla_driving.data.label_config import LabelConfig
from vla_driving.meta_action import MetaAction
from vla_driving.types import ControlSignals, Plan
from vla_driving.evaluation.bag_labels import labelled_sample
from vla_driving.evaluation.control_metrics import CONTROL_NAMES
from vla_driving.evaluation.summary import EvalSample


@dataclass
class LiveOutputs:
    """Thread-safe enough for one subscriber thread: dict assignment per message."""

    paths: dict[int, np.ndarray] = field(default_factory=dict)
    decisions: dict[int, dict] = field(default_factory=dict)
    rejected: int = 0

    def on_path(self, stamp_ns: int, xy: np.ndarray) -> None:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if xy.shape != (NUM_WAYPOINTS, 2) or not np.all(np.isfinite(xy)):
            self.rejected += 1
            return
        self.paths[int(stamp_ns)] = xy

    def on_decision(self, text: str) -> None:
        try:
            data = json.loads(text)
            self.decisions[int(data["stamp_ns"])] = data
        except (ValueError, KeyError, TypeError):
            self.rejected += 1

    def plans(self) -> dict[int, Plan]:
        """Plans for the stamps that have both a path and a readable decision."""
        out = {}
        for stamp, xy in self.paths.items():
            d = self.decisions.get(stamp)
            if d is None:
                continue
            try:
                controls = ControlSignals.from_array([d["controls"][k] for k in CONTROL_NAMES])
                nxt = ControlSignals.from_array([d["next_controls"][k] for k in CONTROL_NAMES])
                meta = MetaAction(d["meta_action"]["speed"], d["meta_action"]["steering"])
            except (KeyError, TypeError, ValueError):
                self.rejected += 1
                continue
            out[stamp] = Plan(stamp_ns=stamp, waypoints=xy, controls=controls, next_controls=nxt,
                              meta_action=meta, bundle_id=str(d.get("bundle_id", "")))
        return out


def live_samples(bag: BagData, anchor_camera: str, outputs: LiveOutputs,
                 label_cfg: LabelConfig | None = None, episode: str = "") -> list[EvalSample]:
    """One sample per anchor frame of the bag, with the nodes' plan for it when there is one."""
    cfg = label_cfg or LabelConfig()
    plans = outputs.plans()
    samples = []
    for stamp, *_ in bag.images.get(anchor_camera, []):
        sample = labelled_sample(bag, int(stamp), cfg, episode or bag.path)
        sample.plan = plans.get(int(stamp))
        samples.append(sample)
    return samples
