"""Batch collation of the contract's sample dicts: tensors are stacked, text stays in lists."""

from __future__ import annotations

import torch

TENSOR_KEYS = ("images", "ego", "past", "waypoints", "controls", "speed_level", "steering_level",
               "instruction_completed")
OPTIONAL_TENSOR_KEYS = ("lead", "lane")   # stacked when every sample has them (simulator data)
LIST_KEYS = ("instruction", "description", "justification", "qa", "difficulty", "episode",
             "stamp_ns")


def collate_samples(samples: list[dict]) -> dict:
    """list of sample dicts -> one batch dict; a missing key is an error naming it."""
    if not samples:
        raise ValueError("cannot collate an empty batch")
    batch = {}
    for key in TENSOR_KEYS:
        try:
            batch[key] = torch.stack([torch.as_tensor(s[key]) for s in samples])
        except KeyError:
            raise KeyError(f"sample lacks '{key}' (see docs/contracts.md)") from None
    for key in OPTIONAL_TENSOR_KEYS:
        if all(key in s for s in samples):
            batch[key] = torch.stack([torch.as_tensor(s[key]) for s in samples])
    for key in LIST_KEYS:
        batch[key] = [s.get(key, "" if key != "qa" else []) for s in samples]
    batch["qa"] = [[(str(q), str(a)) for q, a in rounds] for rounds in batch["qa"]]
    return batch
