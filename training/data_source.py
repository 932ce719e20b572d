"""Open the train / validation Datasets for `--data`: a generated data dir, or `synthetic`.

The data dir format belongs to `vla_driving_training.data` (the dataset part); this adapter only
picks its splits, so the training code depends on the contract dict and nothing else.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .synthetic import SyntheticDrivingDataset

SYNTHETIC = "synthetic"
TRAIN_SPLIT, VAL_SPLIT = "train", "val"


def open_splits(data: str, image_size: int = 32):
    """(train, val) Datasets yielding the contract dict; `synthetic[:N]` needs no files."""
    if data.split(":")[0] == SYNTHETIC:
        size = int(data.split(":")[1]) if ":" in data else 96
        return (SyntheticDrivingDataset(size, image_size=image_size, seed=0),
                SyntheticDrivingDataset(max(8, size // 4), image_size=image_size, seed=1))
    path = Path(data)
    if not path.exists():
        raise FileNotFoundError(f"--data {path}: no such directory (generate it first, or use "
                                f"'{SYNTHETIC}')")
    return open_split(path, TRAIN_SPLIT), open_split(path, VAL_SPLIT)


def open_split(path: Path, split: str):
    """The dataset part's Dataset for one split of a generated data dir."""
    module = importlib.import_module("vla_driving_training.data.dataset")
    return module.open_split(path, split)
