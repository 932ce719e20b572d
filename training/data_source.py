"""Open the train / validation Datasets for `--data`: a generated data dir, or `synthetic`.

The data dir format belongs to `vla_driving_training.data` (the dataset part); this adapter only
picks its splits, so the training code depends on the contract dict and nothing else.
"""

from __future__ import annotations

from pathlib import Path

from vla_driving.constants import FRAME_INTERVAL_S

from .synthetic import SyntheticDrivingDataset

SYNTHETIC = "synthetic"
TRAIN_SPLIT, VAL_SPLIT = "train", "val"


def open_splits(data: str, image_size: int = 32, frames: int = 2,
                frame_interval_s: float = FRAME_INTERVAL_S):
    """(train, val) Datasets yielding the contract dict; `synthetic[:N]` needs no files.

    Images are decoded at the model's `image_size` with `frames` history frames.
    """
    if data.split(":")[0] == SYNTHETIC:
        size = int(data.split(":")[1]) if ":" in data else 96
        return (SyntheticDrivingDataset(size, frames, image_size=image_size, seed=0),
                SyntheticDrivingDataset(max(8, size // 4), frames, image_size=image_size, seed=1))
    path = Path(data)
    if not path.exists():
        raise FileNotFoundError(f"--data {path}: no such directory (generate it first, or use "
                                f"'{SYNTHETIC}')")
    return (open_split(path, TRAIN_SPLIT, image_size, frames, frame_interval_s),
            open_split(path, VAL_SPLIT, image_size, frames, frame_interval_s))


def dataset_config(image_size: int, frames: int, frame_interval_s: float = FRAME_INTERVAL_S):
    from .data.dataset import DatasetConfig

    return DatasetConfig(image_size=image_size, history=frames, history_dt_s=frame_interval_s)


def open_split(path: Path, split: str, image_size: int, frames: int,
               frame_interval_s: float = FRAME_INTERVAL_S):
    """The dataset part's Dataset for one split of a generated data dir."""
    from .data.dataset import open_split as open_data_split

    return open_data_split(path, split, dataset_config(image_size, frames, frame_interval_s))


def open_all(path: str | Path, image_size: int, frames: int,
             frame_interval_s: float = FRAME_INTERVAL_S):
    """Every frame of every bag under `path` (held-out evaluation: no split, no filtering)."""
    from .data.dataset import DrivingDataset
    from .data.index import find_bags

    bags = find_bags(Path(path))
    if not bags:
        raise FileNotFoundError(f"no bags under {path}")
    return DrivingDataset(bags, dataset_config(image_size, frames, frame_interval_s))
