"""Labels of one replayed frame from a read bag: trajectory/controls/meta-action (the dataset's
own `labels_at`) and the ground-truth agent boxes at each future waypoint time, in the ego frame
of the frame's stamp."""

from __future__ import annotations

from bisect import bisect_left

import numpy as np

from vla_driving.constants import NS_PER_S, NUM_WAYPOINTS, WAYPOINT_DT_S
from vla_driving.data.bag_data import BagData
from vla_driving.data.label_config import LabelConfig
from vla_driving.data.labels import FrameLabels, future_waypoints, labels_at, to_ego_frame
from vla_driving.evaluation.summary import EvalSample

AGENT_MATCH_TOLERANCE_S = 0.1


def _nearest_agents(bag: BagData, stamp_ns: int, tolerance_ns: int) -> dict | None:
    stamps = [s for s, _ in bag.agents]
    i = bisect_left(stamps, stamp_ns)
    best = min((j for j in (i - 1, i) if 0 <= j < len(stamps)),
               key=lambda j: abs(stamps[j] - stamp_ns), default=None)
    if best is None or abs(stamps[best] - stamp_ns) > tolerance_ns:
        return None
    return bag.agents[best][1]


def agent_boxes(bag: BagData, stamp_ns: int) -> np.ndarray | None:
    """(6, A, 5) boxes (x, y, yaw, length, width) at +0.5 ... +3.0 s in the ego frame at
    `stamp_ns`; NaN rows where an agent is absent at a step. None without ground truth."""
    table = agent_table(bag, stamp_ns)
    return None if table is None else table[0]


def agent_table(bag: BagData, stamp_ns: int) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """`agent_boxes` and the category of each of its agent columns; None without ground
    truth in the bag, all-NaN steps where the bag ends before them."""
    if not bag.agents or bag.odometry is None:
        return None
    track = bag.odometry
    t0 = (stamp_ns - int(track.t_ns[0])) / NS_PER_S
    x0, y0, yaw0, _ = (float(v[0]) for v in track.at(np.array([t0])))
    tol = int(AGENT_MATCH_TOLERANCE_S * NS_PER_S)
    steps = [_nearest_agents(bag, stamp_ns + int((k + 1) * WAYPOINT_DT_S * NS_PER_S), tol)
             for k in range(NUM_WAYPOINTS)]
    ids = sorted({a["id"] for s in steps if s for a in s.get("agents", [])})
    boxes = np.full((NUM_WAYPOINTS, len(ids), 5), np.nan)
    column = {agent_id: j for j, agent_id in enumerate(ids)}
    categories = [""] * len(ids)
    for k, step in enumerate(steps):
        for a in (step or {}).get("agents", []):
            xy = to_ego_frame(a["x"], a["y"], x0, y0, yaw0)
            boxes[k, column[a["id"]]] = [xy[0], xy[1], a["yaw"] - yaw0, a["length"], a["width"]]
            categories[column[a["id"]]] = str(a.get("category", ""))
    return boxes, tuple(categories)


def labelled_sample(bag: BagData, stamp_ns: int, cfg: LabelConfig, episode: str) -> EvalSample:
    """An EvalSample with every label the bag allows at `stamp_ns` (plan filled in later):
    the full labels where the whole future is recorded, the recorded part of the future and
    the agent boxes wherever the odometry covers the stamp."""
    track = bag.odometry
    labels: FrameLabels | None = labels_at(track, stamp_ns, cfg) if track else None
    partial = future_waypoints(track, stamp_ns, cfg) if track else None
    table = agent_table(bag, stamp_ns) if partial is not None else None
    return EvalSample(
        stamp_ns=stamp_ns, episode=episode,
        true_waypoints=None if labels is None else labels.waypoints.astype(np.float64),
        true_controls=None if labels is None else labels.controls[0].astype(np.float64),
        true_meta=None if labels is None else labels.meta,
        agent_boxes=None if table is None else table[0],
        future_waypoints=None if partial is None else partial[0],
        future_valid=None if partial is None else partial[1],
        agent_categories=None if table is None else table[1])
