"""Latency percentiles per pipeline stage and input drop counts (the replayed-bag latency table)."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

PERCENTILES = (50, 90, 99)


def latency_table(records: Iterable[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """{stage: {p50, p90, p99, mean, max, count}} in milliseconds from per-plan `latency_s` dicts.

    Stages missing from some records are summarised over the records that have them.
    """
    samples: dict[str, list[float]] = {}
    for record in records:
        for stage, seconds in record.items():
            if seconds is not None and np.isfinite(seconds):
                samples.setdefault(stage, []).append(1e3 * float(seconds))
    table = {}
    for stage in sorted(samples):
        values = np.asarray(samples[stage])
        row = {f"p{p}": float(np.percentile(values, p)) for p in PERCENTILES}
        row.update(mean=float(values.mean()), max=float(values.max()), count=int(len(values)))
        table[stage] = row
    return table


def drop_counts(frames_in: int, plans_out: int, degraded: int = 0, failed: int = 0) -> dict:
    """How many input sets produced no plan, and how many plans ran on degraded input."""
    if min(frames_in, plans_out, degraded, failed) < 0:
        raise ValueError("counts must be non-negative")
    dropped = max(frames_in - plans_out, 0)
    return {"inputs": int(frames_in), "plans": int(plans_out), "dropped": int(dropped),
            "drop_rate": float(dropped / frames_in) if frames_in else 0.0,
            "degraded": int(degraded), "failed": int(failed)}
