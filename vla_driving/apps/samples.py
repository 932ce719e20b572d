"""Dataset frames for calibration, checks and benchmarks, as contract sample dicts.

The data dir format and its labelling belong to the training package (`vla_driving_training`),
so reading `--data` needs the `train` extra: export and benchmarking are offline tools. Loading
and running a bundle never touch this module.
"""

from __future__ import annotations

import numpy as np

from vla_driving.constants import FRAME_INTERVAL_S
from vla_driving.engines.base import require

SPLITS = ("train", "val", "all")  # all: every frame of every bag (a held-out data dir)


def load_samples(data: str, split: str, count: int, image_size: int = 32,
                 frames: int = 2, frame_interval_s: float = FRAME_INTERVAL_S) -> list[dict]:
    """`count` frames spread evenly over a split of `data` (a data dir, or `synthetic[:N]`),
    decoded at the model's `image_size` with `frames` history frames `frame_interval_s` apart."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: allowed values are {list(SPLITS)}")
    source = require("vla_driving_training.data_source", "train")
    if split == "all" and not data.startswith("synthetic"):
        dataset = source.open_all(data, image_size, frames, frame_interval_s)
    else:
        train, val = source.open_splits(data, image_size, frames, frame_interval_s)
        dataset = train if split == "train" else val
    if len(dataset) == 0:
        raise ValueError(f"--data {data}: the {split} split is empty")
    picks = np.unique(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).astype(int))
    return [dataset[int(i)] for i in picks]
