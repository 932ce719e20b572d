"""Control-signal RMSE and meta-action accuracy (Sce2DriveX's decision and control metrics)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from vla_driving.meta_action import META_TYPES, MetaAction, weighted_accuracy

CONTROL_NAMES = ("speed", "steering_angle", "acceleration", "steering_rate")
CONTROL_UNITS = ("m/s", "rad", "m/s^2", "rad/s")


def control_rmse(pred, true) -> dict[str, float]:
    """Root-mean-square error of each control signal over samples; rows are CONTROL_NAMES order."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, len(CONTROL_NAMES))
    true = np.asarray(true, dtype=np.float64).reshape(-1, len(CONTROL_NAMES))
    if pred.shape != true.shape:
        raise ValueError(f"pred {pred.shape} and true {true.shape} differ")
    if len(pred) == 0:
        return {name: float("nan") for name in CONTROL_NAMES}
    rmse = np.sqrt(np.mean((pred - true) ** 2, axis=0))
    return {name: float(v) for name, v in zip(CONTROL_NAMES, rmse)}


def meta_action_metrics(pred: Sequence[MetaAction], true: Sequence[MetaAction],
                        pred_types: Sequence[str] | None = None,
                        true_types: Sequence[str] | None = None) -> dict[str, float]:
    """Weighted accuracy (steering 0.7, speed 0.3) and the two component accuracies, in 0..1;
    with composite types (`meta_action.meta_type`) also the accuracy over all `META_TYPES`
    (`type_accuracy`, the counterpart of Sce2DriveX's 64-way figure)."""
    pred, true = list(pred), list(true)
    if len(pred) != len(true):
        raise ValueError(f"{len(pred)} predictions for {len(true)} labels")
    nan = float("nan")
    if not true:
        return {"weighted_accuracy": nan, "steering_accuracy": nan, "speed_accuracy": nan}
    out = {
        "weighted_accuracy": weighted_accuracy(pred, true),
        "steering_accuracy": sum(p.steering == t.steering for p, t in zip(pred, true)) / len(true),
        "speed_accuracy": sum(p.speed == t.speed for p, t in zip(pred, true)) / len(true),
    }
    if pred_types is not None and true_types is not None:
        pred_types, true_types = list(pred_types), list(true_types)
        if len(pred_types) != len(true_types):
            raise ValueError(f"{len(pred_types)} predicted types for {len(true_types)} labels")
        out["type_accuracy"] = (sum(p == t for p, t in zip(pred_types, true_types))
                                / len(true_types)) if true_types else nan
        out["types"] = len(META_TYPES)
    return out
