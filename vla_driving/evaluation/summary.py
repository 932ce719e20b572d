"""One evaluated planning cycle (`EvalSample`) and the summary of a run: every metric the
labels allow, with a note for each one that could not be computed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from vla_driving.meta_action import MetaAction
from vla_driving.types import Plan
from vla_driving.evaluation.control_metrics import control_rmse, meta_action_metrics
from vla_driving.evaluation.latency import drop_counts, latency_table
from vla_driving.evaluation.planning_metrics import collision_metrics, l2_metrics
from vla_driving.evaluation.text_metrics import caption_metrics, qa_accuracy


@dataclass
class EvalSample:
    """A policy's plan for one input set, next to whatever labels the bag had (None if absent).

    `plan` is None when the policy produced nothing (error or no synchronised input).
    `qa` holds (question, expected answer, predicted answer or None) rounds.
    """

    stamp_ns: int
    episode: str = ""
    plan: Plan | None = None
    true_waypoints: np.ndarray | None = None
    true_controls: np.ndarray | None = None
    true_meta: MetaAction | None = None
    agent_boxes: np.ndarray | None = None
    description: str | None = None
    justification: str | None = None
    qa: tuple = ()
    degraded: bool = False
    failed: bool = False
    text_failed: bool = False


def _planned(samples):
    return [s for s in samples if s.plan is not None]


def _text(samples, attr: str) -> dict:
    pairs = [(getattr(s.plan, attr), getattr(s, attr)) for s in _planned(samples)
             if getattr(s, attr) and getattr(s.plan, attr) is not None]
    if not pairs:
        return {"samples": 0, "note": f"no predicted and reference {attr} pairs"}
    return caption_metrics([p for p, _ in pairs], [[r] for _, r in pairs])


def _qa(samples) -> dict:
    rounds = [(exp, pred) for s in samples for _, exp, pred in s.qa if pred is not None]
    if not rounds:
        return {"accuracy": None, "samples": 0, "note": "no answered QA rounds"}
    return {"accuracy": qa_accuracy([p for _, p in rounds], [e for e, _ in rounds]),
            "samples": len(rounds)}


def summarise(samples: Sequence[EvalSample], text: bool = True, **collision_kwargs) -> dict:
    """All metrics of one policy over one run (one condition)."""
    planned = _planned(samples)
    out: dict = {"samples": len(samples)}
    with_wp = [s for s in planned if s.true_waypoints is not None]
    out["l2_m"] = (l2_metrics([s.plan.waypoints for s in with_wp],
                              [s.true_waypoints for s in with_wp]) if with_wp
                   else {"note": "no ground-truth waypoints"})
    with_boxes = [s for s in planned if s.agent_boxes is not None]
    out["collision_rate"] = (collision_metrics([s.plan.waypoints for s in with_boxes],
                                               [s.agent_boxes for s in with_boxes],
                                               **collision_kwargs) if with_boxes
                             else {"note": "no ground-truth agent boxes"})
    with_meta = [s for s in planned if s.true_meta is not None]
    out["meta_action"] = (meta_action_metrics([s.plan.meta_action for s in with_meta],
                                              [s.true_meta for s in with_meta]) if with_meta
                          else {"note": "no meta-action labels"})
    with_ctrl = [s for s in planned if s.true_controls is not None]
    out["control_rmse"] = (control_rmse([s.plan.controls.as_array() for s in with_ctrl],
                                        [s.true_controls for s in with_ctrl]) if with_ctrl
                           else {"note": "no control labels"})
    if text:
        out["description"] = _text(samples, "description")
        out["justification"] = _text(samples, "justification")
    out["qa"] = _qa(samples)
    out["latency_ms"] = latency_table(s.plan.latency_s for s in planned)
    out["drops"] = drop_counts(len(samples), len(planned),
                               degraded=sum(s.degraded for s in samples),
                               failed=sum(s.failed for s in samples))
    out["drops"]["text_rejected"] = sum(s.text_failed for s in samples)
    return out


def headline(metrics: dict) -> dict[str, float | None]:
    """The few numbers a summary table shows (None where the metric is not available)."""
    def pick(*keys):
        node = metrics
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                return None
            node = node[k]
        return None if node is None or (isinstance(node, float) and math.isnan(node)) else node
    return {
        "L2 avg UniAD (m)": pick("l2_m", "uniad", "avg"),
        "L2 avg ST-P3 (m)": pick("l2_m", "stp3", "avg"),
        "L2 3s UniAD (m)": pick("l2_m", "uniad", "3s"),
        "collision avg UniAD (%)": _pct(pick("collision_rate", "uniad", "avg")),
        "collision avg ST-P3 (%)": _pct(pick("collision_rate", "stp3", "avg")),
        "meta-action acc (%)": _pct(pick("meta_action", "weighted_accuracy")),
        "speed RMSE (m/s)": pick("control_rmse", "speed"),
        "drop rate (%)": _pct(pick("drops", "drop_rate")),
    }


def _pct(value):
    return None if value is None else 100.0 * value
