"""Dataset frames for calibration, checks and benchmarks, as contract sample dicts.

The data dir format and its labelling belong to the training package (`vla_driving_training`),
so reading `--data` needs the `train` extra: export and benchmarking are offline tools. Loading
and running a bundle never touch this module.
"""

from __future__ import annotations

import numpy as np

from .base import require

SPLITS = ("train", "val")


def load_samples(data: str, split: str, count: int, image_size: int = 32) -> list[dict]:
    """`count` frames spread evenly over a split of `data` (a data dir, or `synthetic[:N]`)."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: allowed values are {list(SPLITS)}")
    source = require("vla_driving_training.data_source", "train")
    train, val = source.open_splits(data, image_size=image_size)
    dataset = val if split == "val" else train
    if len(dataset) == 0:
        raise ValueError(f"--data {data}: the {split} split is empty")
    picks = np.unique(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).astype(int))
    return [dataset[int(i)] for i in picks]
