"""Dataset index: bags -> episodes with a split each (never split by frame), per-frame
difficulty and meta-action class weights for balancing.

Stored as `index.json` next to the bags (paths relative to it), so a data folder moves as a unit.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from vla_driving.configuration import Config, ConfigError, param

INDEX_FILE = "index.json"
INDEX_VERSION = 1
SPLITS = ("train", "val", "test")
MAX_CLASS_WEIGHT = 20.0


@dataclass
class IndexConfig(Config):
    val_fraction: float = param(0.1, "share of episodes in the validation split", low=0.0, high=1.0)
    test_fraction: float = param(0.1, "share of episodes in the test split", low=0.0, high=1.0)
    min_difficulty: float = param(0.0, "training frames below this difficulty are dropped",
                                  low=0.0, high=1.0)
    max_difficulty: float = param(1.0, "training frames above this difficulty are dropped "
                                  "(DriveRX keeps mid-difficulty frames)", low=0.0, high=1.0)

    def validate(self) -> None:
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ConfigError(f"val_fraction + test_fraction = "
                              f"{self.val_fraction + self.test_fraction} leaves no training data")
        if self.min_difficulty > self.max_difficulty:
            raise ConfigError(f"min_difficulty={self.min_difficulty} > "
                              f"max_difficulty={self.max_difficulty}")


def split_of(episode: str, cfg: IndexConfig) -> str:
    """Deterministic split from a hash of the episode name (stable as data grows)."""
    u = int(hashlib.sha256(episode.encode()).hexdigest()[:12], 16) / 16**12
    if u < cfg.test_fraction:
        return "test"
    if u < cfg.test_fraction + cfg.val_fraction:
        return "val"
    return "train"


def find_bags(root: Path) -> list[Path]:
    """Bag folders (with metadata.yaml) and bare .db3/.mcap files under `root`, sorted."""
    root = Path(root)
    if root.is_file() or (root / "metadata.yaml").exists():
        return [root]
    bags = {p.parent for p in root.rglob("metadata.yaml")}
    bare = [p for p in list(root.rglob("*.db3")) + list(root.rglob("*.mcap"))
            if p.parent not in bags and not any(b in p.parents for b in bags)]
    return sorted(bags) + sorted(bare)


def class_weights(pairs: list[tuple[int, int]], power: float = 1.0) -> dict:
    """Inverse-frequency weight per (steering, speed) class (the count to the -`power`),
    capped, mean 1 over frames."""
    counts = Counter(pairs)
    raw = {k: 1.0 / n ** power for k, n in counts.items()}
    mean = sum(raw[p] for p in pairs) / max(len(pairs), 1)
    return {k: min(v / mean, MAX_CLASS_WEIGHT) for k, v in raw.items()}


def build_index(root: Path, episodes: list, cfg: IndexConfig) -> dict:
    """`episodes`: (bag path, [(stamp_ns, steering, speed, difficulty)]) per bag."""
    pairs = [(st, sp) for _, frames in episodes for _, st, sp, _ in frames]
    weights = class_weights(pairs)
    out = []
    for path, frames in episodes:
        name = Path(path).name
        out.append({"name": name, "path": str(Path(path).resolve().relative_to(root.resolve())),
                    "split": split_of(name, cfg),
                    "frames": [{"stamp_ns": s, "steering_level": st, "speed_level": sp,
                                "difficulty": round(d, 4), "weight": round(weights[(st, sp)], 4)}
                               for s, st, sp, d in frames]})
    return {"version": INDEX_VERSION, "config": cfg.to_dict(), "episodes": out}


def save_index(root: Path, index: dict) -> Path:
    path = Path(root) / INDEX_FILE
    path.write_text(json.dumps(index, indent=1, sort_keys=True))
    return path


def load_index(root: Path) -> dict:
    path = Path(root) / INDEX_FILE
    index = json.loads(path.read_text())
    if index.get("version") != INDEX_VERSION:
        raise ValueError(f"{path}: index version {index.get('version')}, expected {INDEX_VERSION}")
    return index


def select(index: dict, split: str, filter_difficulty: bool) -> tuple[list[str], set, dict]:
    """(bag paths, kept (episode, stamp) pairs, weight per pair) of one split."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {SPLITS}")
    cfg = IndexConfig.from_dict(index["config"])
    bags, keep, weights = [], set(), {}
    for ep in index["episodes"]:
        if ep["split"] != split:
            continue
        bags.append(ep["path"])
        for f in ep["frames"]:
            if filter_difficulty and not cfg.min_difficulty <= f["difficulty"] <= cfg.max_difficulty:
                continue
            keep.add((ep["name"], f["stamp_ns"]))
            weights[(ep["name"], f["stamp_ns"])] = f["weight"]
    return bags, keep, weights
