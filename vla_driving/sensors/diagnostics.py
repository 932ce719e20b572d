"""Ingest health over one diagnostics period, computed from two `Ingest.stats()` snapshots.

ROS-free: the node turns each `Status` into a `diagnostic_msgs/DiagnosticStatus`. Levels follow
diagnostic_msgs: OK, WARN (something was rejected, dropped or degraded in the period), ERROR (a
camera or the anchor delivered nothing in the period).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vla_driving.constants import NS_PER_S

OK, WARN, ERROR = 0, 1, 2
_PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class Status:
    name: str
    level: int
    message: str
    values: dict[str, str] = field(default_factory=dict)


def percentiles_ms(samples_ns: list[int] | np.ndarray) -> dict[str, float]:
    """{"p50": ms, "p90": ms, "p99": ms, "max": ms} of samples in ns (NaN when empty)."""
    data = np.asarray(samples_ns, dtype=np.float64) / 1e6
    if data.size == 0:
        return {**{f"p{p}": float("nan") for p in _PERCENTILES}, "max": float("nan")}
    out = {f"p{p}": float(np.percentile(data, p)) for p in _PERCENTILES}
    out["max"] = float(data.max())
    return out


def _delta(now: dict, before: dict) -> dict:
    return {k: v - before.get(k, 0) for k, v in now.items() if v - before.get(k, 0)}


def source_status(prefix: str, name: str, now: dict, before: dict, period_s: float,
                  dropped: int = 0, expect_data: bool = True) -> Status:
    """Rate and rejections of one camera (or odometry / instruction) over the period."""
    received = now["received"] - before.get("received", 0)
    rejected = _delta(now["rejected"], before.get("rejected", {}))
    rate = received / period_s if period_s > 0 else 0.0
    level, message = OK, f"{rate:.1f} Hz"
    if rejected or dropped:
        level = WARN
        message += ", rejected " + ", ".join(f"{k}={v}" for k, v in sorted(rejected.items())) \
            if rejected else ""
        message += f", dropped {dropped}" if dropped else ""
    if expect_data and received == 0:
        level, message = ERROR, "no data"
    values = {"rate_hz": f"{rate:.2f}", "received": str(now["received"]),
              "accepted": str(now["accepted"]), "dropped": str(dropped)}
    values.update({f"rejected.{k}": str(v) for k, v in sorted(now["rejected"].items())})
    return Status(f"{prefix}: {name}", level, message, values)


def ingest_statuses(prefix: str, now: dict, before: dict | None, period_s: float,
                    cameras: tuple[str, ...] | list[str], anchor: str) -> list[Status]:
    """One status per camera, odometry, instruction, plus one for the synchronised sets."""
    before = before or {"sources": {}, "dropped": {}, "sets": 0, "degraded_sets": 0}
    out = []
    for camera in cameras:
        dropped = now["dropped"][camera] - before["dropped"].get(camera, 0)
        out.append(source_status(prefix, f"camera {camera}", now["sources"][camera],
                                 before["sources"].get(camera, {}), period_s, dropped))
    for source, expect in (("odometry", True), ("instruction", False)):
        out.append(source_status(prefix, source, now["sources"][source],
                                 before["sources"].get(source, {}), period_s, 0, expect))
    sets = now["sets"] - before["sets"]
    degraded = now["degraded_sets"] - before["degraded_sets"]
    latency = percentiles_ms(now["latency_ns"])
    level = ERROR if sets == 0 else WARN if degraded else OK
    message = "no synchronised sets (anchor " + anchor + ")" if sets == 0 else \
        f"{sets / period_s:.1f} sets/s, degraded {degraded}"
    values = {"sets": str(now["sets"]), "degraded_sets": str(now["degraded_sets"]),
              "clock_resets": str(now["clock_resets"]),
              "unknown_camera": str(now.get("unknown_camera", 0))}
    values.update({f"latency_ms.{k}": f"{v:.2f}" for k, v in latency.items()})
    values.update({f"held.{c}": str(n) for c, n in now["held_views"].items()})
    values.update({f"missing.{c}": str(n) for c, n in now["missing_views"].items()})
    out.append(Status(f"{prefix}: sync", level, message, values))
    return out
