"""PNG figures of a report (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from vla_driving.constants import WAYPOINT_DT_S
from vla_driving.evaluation.geometry import box_corners
from vla_driving.evaluation.planning_metrics import EGO_LENGTH_M, EGO_WIDTH_M
from vla_driving.evaluation.summary import EvalSample

BEV_SAMPLES = 4
DPI = 100
MAX_WIDTH_IN = 14.0


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _bev(ax, xy: np.ndarray, **style) -> None:
    """Bird's-eye view with x forward drawn upwards and y left drawn to the left."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    ax.plot(-xy[:, 1], xy[:, 0], **style)


def _draw_box(ax, box, **style) -> None:
    corners = box_corners(np.asarray(box))
    closed = np.vstack([corners, corners[:1]])
    _bev(ax, closed, **style)


def bev_samples(path: Path, runs: Mapping[str, Sequence[EvalSample]], count: int = BEV_SAMPLES):
    """Predicted vs true trajectories on `count` evenly spread frames that have labels."""
    plt = _pyplot()
    first = next(iter(runs.values()), [])
    labelled = [i for i, s in enumerate(first) if s.true_waypoints is not None]
    if not labelled:
        labelled = list(range(len(first)))
    picks = [labelled[int(j)] for j in np.linspace(0, len(labelled) - 1, min(count, len(labelled)))
             ] if labelled else []
    fig, axes = plt.subplots(1, max(len(picks), 1), figsize=(3.2 * max(len(picks), 1), 4.2),
                             squeeze=False)
    for ax, index in zip(axes[0], picks):
        sample = first[index]
        _draw_box(ax, [0, 0, 0, EGO_LENGTH_M, EGO_WIDTH_M], color="black", lw=1.5)
        if sample.agent_boxes is not None:
            for box in np.asarray(sample.agent_boxes)[0]:
                if np.all(np.isfinite(box)):
                    _draw_box(ax, box, color="grey", lw=1)
        if sample.true_waypoints is not None:
            _bev(ax, sample.true_waypoints, color="black", marker="o", ls="--", label="true")
        for name, run in runs.items():
            plan = run[index].plan if index < len(run) else None
            if plan is not None:
                _bev(ax, plan.waypoints, marker=".", label=name)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"{sample.episode} t={sample.stamp_ns / 1e9:.1f}s", fontsize=8)
        ax.set_xlabel("left <- y (m)")
    axes[0][0].set_ylabel("x forward (m)")
    if picks:
        axes[0][0].legend(fontsize=7)
    _save(fig, path)


def error_vs_horizon(path: Path, metrics: Mapping[str, dict]) -> None:
    """Per-step mean L2 of each policy against the prediction horizon, over the samples with a
    complete future (the ST-P3 convention's per-step table)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, m in metrics.items():
        per_step = m.get("l2_m", {}).get("per_step")
        if isinstance(per_step, Mapping):
            per_step = per_step.get("stp3")
        if per_step:
            t = WAYPOINT_DT_S * np.arange(1, len(per_step) + 1)
            ax.plot(t, per_step, marker="o", label=name)
    ax.set_xlabel("horizon (s)")
    ax.set_ylabel("L2 error (m), samples with a complete future")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def plan_total_s(latency_s: Mapping[str, float]) -> float | None:
    """One plan's total time: stages nest (infer holds encoder and llm_head), so no sum of all;
    None for a plan inferred in a batch (its stages are the batch's per frame, not its own)."""
    if any(stage.endswith("_per_frame_batched") for stage in latency_s):
        return None
    if "total_from_receipt" in latency_s:
        return latency_s["total_from_receipt"]
    return latency_s.get("prepare", 0.0) + latency_s.get("infer", 0.0)


def latency_histogram(path: Path, runs: Mapping[str, Sequence[EvalSample]]) -> None:
    """Histogram of the total per-plan latency of each policy: the node's receipt-to-plan time
    where recorded, else the planner cycle (prepare + infer; the other stages lie within)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    plotted = False
    for name, run in runs.items():
        totals = [1e3 * t for s in run if s.plan is not None and s.plan.latency_s
                  and (t := plan_total_s(s.plan.latency_s)) is not None]
        if totals:
            ax.hist(totals, bins=30, alpha=0.6, label=name)
            plotted = True
    ax.set_xlabel("latency per plan (ms, this machine)")
    ax.set_ylabel("plans")
    if plotted:
        ax.legend(fontsize=8)
    else:   # plans inferred in batches, or none made: no time of one plan to show
        ax.text(0.5, 0.5, "no per-plan latency recorded", ha="center", va="center",
                transform=ax.transAxes)
    _save(fig, path)


def corruption_bars(path: Path, by_condition: Mapping[str, Mapping[str, float | None]],
                    ylabel: str) -> None:
    """Grouped bars: one group per condition (clean first), one bar per policy."""
    plt = _pyplot()
    conditions = list(by_condition)
    policies = sorted({p for row in by_condition.values() for p in row})
    width_in = min(MAX_WIDTH_IN, max(5, 0.5 * len(conditions) * max(len(policies), 1)))
    fig, ax = plt.subplots(figsize=(width_in, 3.8))
    width = 0.8 / max(len(policies), 1)
    for j, policy in enumerate(policies):
        values = [by_condition[c].get(policy) for c in conditions]
        ax.bar(np.arange(len(conditions)) + j * width,
               [np.nan if v is None else v for v in values], width, label=policy)
    ax.set_xticks(np.arange(len(conditions)) + width * (len(policies) - 1) / 2)
    ax.set_xticklabels(conditions, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    _save(fig, path)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    _pyplot().close(fig)
