"""Counters of the text path, one definition for the node's /diagnostics, the closed loop and
replay: texts requested, accepted, rejected (the strict parser, or text that never ended within
`max_new_tokens`: never published), failed (any other error), decode latency and text rate."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from vla_driving.constants import NS_PER_S

ACCEPTED, REJECTED, FAILED = "accepted", "rejected", "failed"
OUTCOMES = (ACCEPTED, REJECTED, FAILED)
WINDOW = 200   # latencies and accepted stamps kept for percentiles and the rate


class TextStats:
    """Thread-safe counts (the text worker records, the node's timer reads)."""

    def __init__(self, window: int = WINDOW) -> None:
        self._lock = threading.Lock()
        self.counts = {k: 0 for k in OUTCOMES}
        self.latencies_s: deque[float] = deque(maxlen=window)
        self.accepted_stamps_ns: deque[int] = deque(maxlen=window)
        self.last_rejection = ""

    def record(self, outcome: str, latency_s: float | None, stamp_ns: int | None = None,
               reason: str = "") -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        with self._lock:
            self.counts[outcome] += 1
            if latency_s is not None:
                self.latencies_s.append(float(latency_s))
            if outcome == ACCEPTED and stamp_ns is not None:
                self.accepted_stamps_ns.append(int(stamp_ns))
            if outcome != ACCEPTED:
                self.last_rejection = reason

    @classmethod
    def merged(cls, parts) -> "TextStats":
        """One TextStats over several runs (closed-loop routes): counts added, the latency and
        stamp windows joined."""
        out = cls(window=sum(p.latencies_s.maxlen or WINDOW for p in parts) or WINDOW)
        for part in parts:
            with part._lock:
                for k, n in part.counts.items():
                    out.counts[k] += n
                out.latencies_s.extend(part.latencies_s)
                out.accepted_stamps_ns.extend(part.accepted_stamps_ns)
                out.last_rejection = part.last_rejection or out.last_rejection
        return out

    @property
    def requested(self) -> int:
        return sum(self.counts.values())

    def rate_hz(self, span_s: float | None = None) -> float | None:
        """Accepted texts per second: over `span_s` when given, else between the first and last
        accepted image stamps of the window (None with fewer than two)."""
        with self._lock:
            stamps = list(self.accepted_stamps_ns)
            accepted = self.counts[ACCEPTED]
        if span_s is not None:
            return accepted / span_s if span_s > 0 else None
        if len(stamps) < 2 or stamps[-1] <= stamps[0]:
            return None
        return (len(stamps) - 1) * NS_PER_S / (stamps[-1] - stamps[0])

    def summary(self, span_s: float | None = None) -> dict:
        """requested / accepted / rejected / failed, parse_rate (accepted over accepted +
        rejected), latency_ms percentiles over every decode, rate_hz."""
        with self._lock:
            counts, lat = dict(self.counts), np.asarray(self.latencies_s, dtype=np.float64)
        judged = counts[ACCEPTED] + counts[REJECTED]
        requested = sum(counts.values())
        out = {"requested": requested, **counts,
               "parse_rate": counts[ACCEPTED] / judged if judged else None,
               "rate_hz": self.rate_hz(span_s) if requested else None}
        out["latency_ms"] = ({f"p{p}": float(np.percentile(lat, p)) * 1e3 for p in (50, 90, 99)}
                             | {"mean": float(lat.mean()) * 1e3, "count": int(lat.size)}
                             if lat.size else {})
        return out
