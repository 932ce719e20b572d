"""One evaluated planning cycle (`EvalSample`) and the summary of a run: every metric the
labels allow, with a note for each one that could not be computed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from vla_driving.data.label_config import LabelConfig
from vla_driving.data.meta_rules import lateral_level
from vla_driving.constants import NS_PER_S
from vla_driving.meta_action import MetaAction, meta_type
from vla_driving.policy.text_stats import ACCEPTED, REJECTED, TextStats
from vla_driving.types import Plan
from vla_driving.evaluation.control_metrics import control_rmse, meta_action_metrics
from vla_driving.evaluation.latency import drop_counts, latency_table
from vla_driving.evaluation.planning_metrics import SWEPT_SUBSTEPS, collision_metrics, l2_metrics
from vla_driving.evaluation.text_metrics import TEXT_METRICS, caption_metrics, qa_accuracy

NO_TEXT = "no scene text asked of this policy (--text-every 0, or the recorded expert)"
NO_REFERENCES = ("the bags carry no reference texts (car bags, or simulator bags recorded "
                 "without /sim/reference/...)")


@dataclass
class EvalSample:
    """A policy's plan for one input set, next to whatever labels the bag had (None if absent).

    `plan` is None when the policy produced nothing (error or no synchronised input).
    `qa` holds (question, expected answer, predicted answer or None) rounds.
    `text_status` is None where no scene text was asked for, else accepted / rejected (the
    strict parser, or no end within max_new_tokens) / failed; `text_meta` / `text_waypoints`
    are the accepted text's own meta-action and trajectory.
    `true_waypoints` is set only when the whole future is recorded; `future_waypoints` /
    `future_valid` hold whatever part of it is (NaN / False for the steps after the episode's
    end), for the conventions that count every frame. `agent_categories` names the category of
    each agent column of `agent_boxes` (car, truck, obstacle, pedestrian, ...).
    """

    stamp_ns: int
    episode: str = ""
    plan: Plan | None = None
    true_waypoints: np.ndarray | None = None
    true_controls: np.ndarray | None = None
    true_meta: MetaAction | None = None
    agent_boxes: np.ndarray | None = None
    future_waypoints: np.ndarray | None = None
    future_valid: np.ndarray | None = None
    agent_categories: tuple | None = None
    description: str | None = None
    justification: str | None = None
    qa: tuple = ()
    degraded: bool = False
    failed: bool = False
    text_status: str | None = None
    text_latency_s: float | None = None
    text_meta: MetaAction | None = None
    text_waypoints: np.ndarray | None = None

    @property
    def text_failed(self) -> bool:
        return self.text_status == REJECTED


def _planned(samples):
    return [s for s in samples if s.plan is not None]


def _text(samples, attr: str) -> dict:
    """Caption metrics of the accepted texts against the bag's references, or why there are
    none (the metric names are always there, None when not computed)."""
    pairs = [(getattr(s.plan, attr), getattr(s, attr)) for s in _planned(samples)
             if getattr(s, attr) and getattr(s.plan, attr) is not None]
    if pairs:
        return caption_metrics([p for p, _ in pairs], [[r] for _, r in pairs])
    asked = [s for s in samples if s.text_status is not None]
    if not asked:
        note = NO_TEXT
    elif not any(getattr(s, attr) for s in samples):
        note = NO_REFERENCES
    else:
        note = (f"no accepted {attr} on a frame with a reference ({len(asked)} asked, "
                f"{sum(s.text_status == REJECTED for s in asked)} rejected)")
    return {**{m: None for m in TEXT_METRICS}, "samples": 0, "note": note}


def _qa(samples) -> dict:
    rounds = [(exp, pred) for s in samples for _, exp, pred in s.qa if pred is not None]
    if rounds:
        return {"accuracy": qa_accuracy([p for _, p in rounds], [e for e, _ in rounds]),
                "samples": len(rounds)}
    if not any(s.qa for s in samples):
        note = NO_REFERENCES
    elif not any(s.text_status is not None for s in samples):
        note = NO_TEXT
    else:
        note = "the policy answers no questions"
    return {"accuracy": None, "samples": 0, "note": note}


def _replayed_s(samples) -> float:
    """Seconds of input replayed: each episode's first to last planning stamp, summed."""
    spans: dict[str, list[int]] = {}
    for s in samples:
        spans.setdefault(s.episode, []).append(s.stamp_ns)
    return sum(max(v) - min(v) for v in spans.values()) / NS_PER_S


def text_summary(samples) -> dict:
    """The text path's counters (`TextStats.summary`) over a run, and, for accepted texts with
    their own meta-action and trajectory, their agreement with the action head: meta-action
    agreement and the text's vs the head's L2 to the recorded future (mean over the 6 steps)."""
    stats = TextStats(window=len(samples) + 1)
    for s in samples:
        if s.text_status is not None:
            stats.record(s.text_status, s.text_latency_s, s.stamp_ns)
    out = stats.summary(span_s=_replayed_s(samples) or None)
    rows = [s for s in samples if s.text_status == ACCEPTED and s.text_meta is not None]
    if rows:
        out["meta_agreement_with_head"] = float(np.mean([s.text_meta == s.plan.meta_action
                                                         for s in rows]))
    with_wp = [s for s in rows if s.text_waypoints is not None and s.true_waypoints is not None]
    if with_wp:
        def l2(pred, s):
            return float(np.linalg.norm(np.asarray(pred) - s.true_waypoints, axis=-1).mean())
        out["text_l2_avg_m"] = float(np.mean([l2(s.text_waypoints, s) for s in with_wp]))
        out["head_l2_avg_m"] = float(np.mean([l2(s.plan.waypoints, s) for s in with_wp]))
        out["l2_frames"] = len(with_wp)
    return out


def future(sample: EvalSample) -> tuple[np.ndarray, np.ndarray] | None:
    """(waypoints with NaN where missing, valid mask) of a sample's recorded future, or None;
    the labelled waypoints where the whole future is labelled."""
    if sample.true_waypoints is not None:
        wp = np.asarray(sample.true_waypoints, dtype=np.float64)
        return wp, np.ones(len(wp), dtype=bool)
    if sample.future_waypoints is not None:
        wp = np.asarray(sample.future_waypoints, dtype=np.float64)
        valid = (np.all(np.isfinite(wp), axis=1) if sample.future_valid is None
                 else np.asarray(sample.future_valid, dtype=bool))
        return wp, valid
    return None


def _l2(planned) -> dict:
    rows = [(s, f) for s in planned if (f := future(s)) is not None]
    if not rows:
        return {"note": "no ground-truth waypoints"}
    return l2_metrics([s.plan.waypoints for s, _ in rows],
                      [np.nan_to_num(f[0]) for _, f in rows], [f[1] for _, f in rows])


def _collisions(planned, swept_substeps: int) -> dict:
    rows = [(s, f) for s in planned if s.agent_boxes is not None and (f := future(s)) is not None]
    if not rows:
        return {"note": "no ground-truth agent boxes"}
    return collision_metrics([s.plan.waypoints for s, _ in rows], [s.agent_boxes for s, _ in rows],
                             true_plans=[f[0] for _, f in rows], valid=[f[1] for _, f in rows],
                             categories=[s.agent_categories for s, _ in rows],
                             swept_substeps=swept_substeps)


def _meta(planned, cfg: LabelConfig) -> dict:
    """Meta-action accuracy; the composite types take the lateral level of the true and of the
    planned trajectory, both from the current speed (an input of the policy, not a prediction)."""
    rows = [s for s in planned if s.true_meta is not None]
    if not rows:
        return {"note": "no meta-action labels"}
    typed = [s for s in rows if s.true_waypoints is not None and s.true_controls is not None]
    pred_types = true_types = None
    if len(typed) == len(rows):
        speed = [float(np.asarray(s.true_controls).reshape(-1)[0]) for s in rows]
        true_types = [meta_type(s.true_meta, lateral_level(s.true_waypoints, v, cfg))
                      for s, v in zip(rows, speed)]
        pred_types = [meta_type(s.plan.meta_action, lateral_level(s.plan.waypoints, v, cfg))
                      for s, v in zip(rows, speed)]
    return meta_action_metrics([s.plan.meta_action for s in rows], [s.true_meta for s in rows],
                               pred_types, true_types)


def summarise(samples: Sequence[EvalSample], text: bool = True,
              label_cfg: LabelConfig | None = None,
              swept_substeps: int = SWEPT_SUBSTEPS) -> dict:
    """All metrics of one policy over one run (one condition)."""
    planned = _planned(samples)
    out: dict = {"samples": len(samples)}
    out["l2_m"] = _l2(planned)
    out["collision_rate"] = _collisions(planned, swept_substeps)
    out["meta_action"] = _meta(planned, label_cfg or LabelConfig())
    with_ctrl = [s for s in planned if s.true_controls is not None]
    out["control_rmse"] = (control_rmse([s.plan.controls.as_array() for s in with_ctrl],
                                        [s.true_controls for s in with_ctrl]) if with_ctrl
                           else {"note": "no control labels"})
    if text:
        out["description"] = _text(samples, "description")
        out["justification"] = _text(samples, "justification")
        out["text"] = text_summary(samples)
    out["qa"] = _qa(samples)
    out["latency_ms"] = latency_table(s.plan.latency_s for s in planned)
    out["drops"] = drop_counts(len(samples), len(planned),
                               degraded=sum(s.degraded for s in samples),
                               failed=sum(s.failed for s in samples))
    out["drops"]["text_rejected"] = sum(s.text_status == REJECTED for s in samples)
    return out


def headline(metrics: dict) -> dict[str, float | None]:
    """The few numbers a summary table shows (None where the metric is not available). Every
    key names its convention: UniAD / ST-P3 / VAD / swept as in `planning_metrics`; the
    meta-action accuracy is Sce2DriveX's weighted one, "types" the composite `META_TYPES`."""
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
        "collision avg VAD (%)": _pct(pick("collision_rate", "vad", "avg")),
        "collision 3s swept (%)": _pct(pick("collision_rate", "swept", "3s")),
        "meta-action acc (%)": _pct(pick("meta_action", "weighted_accuracy")),
        "meta-action types (%)": _pct(pick("meta_action", "type_accuracy")),
        "speed RMSE (m/s)": pick("control_rmse", "speed"),
        "drop rate (%)": _pct(pick("drops", "drop_rate")),
    }


def _pct(value):
    return None if value is None else 100.0 * value
