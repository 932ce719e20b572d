"""PyTorch Dataset over rosbags (simulator or car): one dict per frame, as docs/contracts.md says.

Bags are read once at construction (labels, ground truth and the still-compressed images stay in
memory); images are decoded per item. A bag without cameras yields samples with an empty image
tensor (T x 0 x 3 x H x W): trajectories and controls only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from vla_driving.configuration import Config, param
from vla_driving.constants import FRAME_INTERVAL_S
from vla_driving.data import BagTopics, LabelConfig, build_samples, read_bag
from vla_driving.data.images import decode_image
from vla_driving.model.frames import pick_frames
from vla_driving.model.processor import stored_frame

from .difficulty import difficulty
from .lane import centerlines, lane_target
from .lead import lead_target
from .text import annotate

log = logging.getLogger(__name__)


@dataclass
class DatasetConfig(Config):
    cameras: list[str] = param(["bev_near", "bev_far"], "cameras per sample, in model order",
                               min_len=1)
    history: int = param(2, "frames per camera (T), oldest first", low=1, high=16)
    history_dt_s: float = param(FRAME_INTERVAL_S, "time between history frames", low=0.05, high=5.0)
    image_size: int = param(128, "images are resized to this square side", low=8, high=1024)
    qa_seed: int = param(0, "seed of the QA/justification phrasing choice", low=0)
    topics: BagTopics = param(BagTopics(), "topic names of the bags")
    labels: LabelConfig = param(LabelConfig(), "label derivation thresholds")


@dataclass
class _Episode:
    name: str
    samples: list
    frames: dict          # camera -> (stamps np.int64, [(format, bytes)])
    lanes: list | None
    info: dict | None = None   # /sim/episode: scenario, seed, generator config
    lines: dict = field(init=False, repr=False)   # lane name -> centre line (the lane target)

    def __post_init__(self):
        self.lines = centerlines(self.lanes)


def load_episode(path: str | Path, cfg: DatasetConfig) -> tuple[_Episode, list[str]]:
    """Read and label one bag; returns the episode and the report lines."""
    topics = cfg.topics if cfg.topics.cameras == cfg.cameras else cfg.topics.for_cameras(cfg.cameras)
    bag = read_bag(path, topics)
    name = Path(path).name
    samples, report = build_samples(bag, cfg.cameras, cfg.labels, episode=name)
    frames = {c: (np.array([f[0] for f in fs], dtype=np.int64), [(f[1], f[2]) for f in fs])
              for c, fs in bag.images.items()}
    return _Episode(name, samples, frames, bag.lanes, bag.episode), \
        bag.report.lines() + report.lines()


class DrivingDataset(Dataset):
    """Frames of one or many bags; `keep` optionally selects (episode, stamp_ns) pairs."""

    def __init__(self, bags: list[str | Path], cfg: DatasetConfig | None = None,
                 keep: set | None = None):
        self.cfg = cfg or DatasetConfig()
        self.episodes, self.report, self.paths = [], [], [Path(b) for b in bags]
        self.weights: list[float] = []
        for path in bags:
            episode, lines = load_episode(path, self.cfg)
            self.episodes.append(episode)
            self.report += lines
        self.items = [(e, i) for e, ep in enumerate(self.episodes)
                      for i, s in enumerate(ep.samples)
                      if keep is None or (ep.name, s.stamp_ns) in keep]
        self.has_frames = any(ep.frames for ep in self.episodes)
        if bags and not self.has_frames:
            log.warning("no camera frames in %d bag(s): samples carry trajectories and "
                        "controls only", len(bags))

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, index: int):
        e, i = self.items[index]
        return self.episodes[e], self.episodes[e].samples[i]

    def meta_classes(self) -> list[tuple[int, int]]:
        """(steering level, speed level) per item, without decoding a frame."""
        return [(s.labels.meta.steering_index, s.labels.meta.speed_index)
                for s in (self.sample(i)[1] for i in range(len(self)))]

    def _images(self, episode: _Episode, stamp: int) -> torch.Tensor:
        """T x N x 3 x S x S uint8: the frames and storage form of the model's processor
        (`pick_frames` at or before each history time, `stored_frame`)."""
        cfg = self.cfg
        size = cfg.image_size
        if not episode.frames:
            return torch.zeros((cfg.history, 0, 3, size, size), dtype=torch.uint8)
        out = np.zeros((cfg.history, len(cfg.cameras), 3, size, size), dtype=np.uint8)
        for n, cam in enumerate(cfg.cameras):
            stamps, data = episode.frames[cam]
            for k, j in enumerate(pick_frames(stamps, cfg.history, cfg.history_dt_s, stamp)):
                out[k, n] = stored_frame(decode_image(*data[j]), size)
        return torch.from_numpy(out)

    def __getitem__(self, index: int) -> dict:
        episode, s = self.sample(index)
        lab = s.labels
        text = annotate(s, episode.lanes, seed=self.cfg.qa_seed)
        return {
            "images": self._images(episode, s.stamp_ns),
            "ego": torch.from_numpy(lab.ego.astype(np.float32)),
            "past": torch.from_numpy(lab.past),
            "waypoints": torch.from_numpy(lab.waypoints),
            "controls": torch.from_numpy(lab.controls),
            "speed_level": torch.tensor(lab.meta.speed_index, dtype=torch.int64),
            "steering_level": torch.tensor(lab.meta.steering_index, dtype=torch.int64),
            "instruction_completed": torch.tensor(float(s.instruction_completed)),
            "lead": torch.from_numpy(lead_target(s.ground_truth, s.pose, float(lab.ego[0]))),
            "lane": torch.from_numpy(lane_target(s.ground_truth, s.pose, episode.lines)),
            "instruction": s.instruction,
            "description": text.description,
            "justification": text.justification,
            "qa": text.qa,
            "difficulty": float(difficulty(s)),
            "episode": s.episode,
            "stamp_ns": int(s.stamp_ns),
        }


def collate(batch: list[dict]) -> dict:
    """Stack tensors, keep strings / QA lists / provenance as lists."""
    out = {}
    for key in batch[0]:
        values = [b[key] for b in batch]
        out[key] = torch.stack(values) if isinstance(values[0], torch.Tensor) else values
    return out


def index_rows(ds: DrivingDataset) -> list:
    """(bag path, [(stamp, steering, speed, difficulty)]) per episode, for `build_index`."""
    return [(path, [(s.stamp_ns, s.labels.meta.steering_index, s.labels.meta.speed_index,
                     difficulty(s)) for s in ep.samples])
            for path, ep in zip(ds.paths, ds.episodes)]


def open_split(root: str | Path, split: str, cfg: DatasetConfig | None = None) -> DrivingDataset:
    """The Dataset of one split of a data folder (its index.json, built in memory if absent).

    The training split drops frames outside the index's difficulty range; `weights` (one per
    item) balance the meta-action classes, e.g. for a WeightedRandomSampler.
    """
    from .index import INDEX_FILE, IndexConfig, build_index, find_bags, load_index, select

    root = Path(root)
    if (root / INDEX_FILE).exists():
        index = load_index(root)
    else:
        log.info("%s has no %s; splitting by episode with the default IndexConfig", root,
                 INDEX_FILE)
        index = build_index(root, index_rows(DrivingDataset(find_bags(root), cfg)), IndexConfig())
    bags, keep, weights = select(index, split, filter_difficulty=split == "train")
    ds = DrivingDataset([root / b for b in bags], cfg, keep=keep)
    ds.weights = [weights[(s.episode, s.stamp_ns)] for s in (ds.sample(i)[1] for i in range(len(ds)))]
    return ds


DATASET_NODE = "vla_dataset"


def config_from_cli(config: str | Path | None, odometry_topic: str | None) -> DatasetConfig:
    """DatasetConfig from an optional YAML (node `vla_dataset`) and an odometry topic override."""
    cfg = DatasetConfig.from_yaml(config, DATASET_NODE) if config else DatasetConfig()
    if odometry_topic:
        cfg = DatasetConfig.from_dict({**cfg.to_dict(), "topics": {
            **cfg.topics.to_dict(), "odometry": odometry_topic}})
    return cfg
