"""Class-balanced sampling for the drive stage (issue 15, "balancing braking and following
situations"): keep-lane-at-constant-speed frames are most of any driving log, so a uniform
sampler rarely shows the model the braking and turning frames that decide closed-loop scores.
Each frame is drawn with the inverse frequency of its meta-action class (steering, speed)
raised to `balance` (0: uniform, 1: every class equally often), capped like the index's weights.
"""

from __future__ import annotations

import torch
from torch.utils.data import ConcatDataset, WeightedRandomSampler

from .data.index import class_weights


def meta_classes(dataset) -> list[tuple[int, int]]:
    """(steering level, speed level) of every item, from the labels where the dataset keeps
    them (`meta_classes()`), else from the items themselves (synthetic data)."""
    if hasattr(dataset, "meta_classes"):
        return dataset.meta_classes()
    if isinstance(dataset, ConcatDataset):
        return [c for part in dataset.datasets for c in meta_classes(part)]
    return [(int(dataset[i]["steering_level"]), int(dataset[i]["speed_level"]))
            for i in range(len(dataset))]


def balanced_weights(classes: list, balance: float) -> list[float]:
    """Per-item weights ∝ count(class)^-balance, mean 1 over the items, capped: the index's
    class weights (`data.index.class_weights`), item by item."""
    weights = class_weights(classes, balance)
    return [weights[c] for c in classes]


def balanced_sampler(dataset, balance: float, seed: int) -> WeightedRandomSampler:
    """An epoch of len(dataset) draws with replacement, seeded (the same draws on every
    process; Accelerate then shards the batches)."""
    weights = balanced_weights(meta_classes(dataset), balance)
    return WeightedRandomSampler(weights, num_samples=len(weights), replacement=True,
                                 generator=torch.Generator().manual_seed(seed))
