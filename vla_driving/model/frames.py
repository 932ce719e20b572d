"""Which image sets of a history the model reads: `frame_interval_s` apart, newest last.

The one rule for both sides: a training sample takes, for each history frame, the last frame at
or before its target time (the episode's first frame when the episode is younger); the run time
does the same over the ingest's synchronised sets. The ingest keeps the last few sets, which at
10-30 Hz are 0.03-0.1 s apart: taking the last T of them would feed the encoder motion it never
saw in training.
"""

from __future__ import annotations

import logging

import numpy as np

from vla_driving.constants import NS_PER_S

log = logging.getLogger(__name__)

SPAN_SLACK = 0.1     # of the interval: camera stamps jitter; a 16-set history at 30 Hz spans 0.5 s


def pick_frames(stamps_ns, frames: int, interval_s: float, newest_ns: int | None = None
                ) -> list[int]:
    """Indices into `stamps_ns` (sorted) of `frames` sets `interval_s` apart, the last one at or
    before `newest_ns` (default: the newest stamp), oldest first; clamped to the first set."""
    if len(stamps_ns) == 0:
        raise ValueError("no image sets to pick from")
    step = int(round(interval_s * NS_PER_S))
    newest = int(stamps_ns[-1]) if newest_ns is None else int(newest_ns)
    targets = np.array([newest - (frames - 1 - k) * step for k in range(frames)], dtype=np.int64)
    found = np.searchsorted(np.asarray(stamps_ns, dtype=np.int64), targets, side="right") - 1
    return [max(0, int(i)) for i in found]


class FramePicker:
    """`pick_frames`, plus one warning when a full history does not span the trained interval."""

    def __init__(self, frames: int, interval_s: float | None):
        self.frames, self.interval_s = frames, interval_s
        self.warned = False

    def __call__(self, stamps_ns: tuple[int, ...] | list[int], available: int,
                 check_span: bool = True) -> list[int]:
        """Indices of the sets to use; without stamps or an interval, the last `frames` sets.

        `check_span`: these stamps are the whole ingest history (not sets already picked), so a
        full one that is too short is worth the warning."""
        if not self.interval_s or len(stamps_ns) != available:
            return [max(0, available - self.frames + k) for k in range(self.frames)]
        stamps = list(stamps_ns)
        span_ns = (self.frames - 1) * self.interval_s * NS_PER_S
        # early in a run the ingest pads its history with the oldest set; once no stamp repeats,
        # the history is full and must span the trained interval
        full = len(stamps) > 1 and stamps[0] != stamps[1]
        too_short = stamps[-1] - stamps[0] < span_ns - SPAN_SLACK * self.interval_s * NS_PER_S
        if check_span and full and too_short and not self.warned:
            self.warned = True
            log.warning("the image history spans %.2f s but the bundle's frames are %.2f s apart "
                        "(%d frames): raise ingest.history so the planner keeps enough sets",
                        (stamps[-1] - stamps[0]) / NS_PER_S, self.interval_s, self.frames)
        return pick_frames(stamps, self.frames, self.interval_s)
