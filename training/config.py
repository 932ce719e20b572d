"""Training configs: loss weights, one config per stage, and the whole run (presets.py fills them)."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.model.config import VLAConfig

PARTS = ("vision", "projector", "llm", "state", "queries", "head")
TASKS = ("caption", "qa", "drive")


@dataclass
class LossWeights(Config):
    """Weights of the loss terms (stage 3 uses all; caption/qa use `text`)."""

    text: float = param(1.0, "cross-entropy of the target text tokens", low=0.0)
    waypoints: float = param(1.0, "smooth-L1 of the waypoints in units of head.waypoint_scale_m",
                             low=0.0)
    controls: float = param(0.5, "smooth-L1 of the controls in units of head.control_scale", low=0.0)
    meta: float = param(0.5, "cross-entropy of speed and steering levels (each)", low=0.0)
    completed: float = param(0.2, "binary cross-entropy of the instruction-completed flag", low=0.0)
    qa: float = param(0.5, "cross-entropy of QA answers when a stage also runs the qa task",
                      low=0.0)
    distill: float = param(0.0, "cross-entropy of speed and steering levels (each) against the "
                           "teachers' mean probabilities (needs the stage's `teachers`)", low=0.0)


@dataclass
class StageConfig(Config):
    """One training stage; it starts from the weights the previous stage ended with."""

    name: str = param("drive", "stage name (output sub-directory)")
    tasks: list[str] = param(["drive"], "what the batches train", choices=TASKS, min_len=1)
    trainable: list[str] = param(list(PARTS), "parts whose weights this stage updates",
                                 choices=PARTS, min_len=1)
    steps: int = param(100, "optimizer steps", low=0, high=10_000_000)
    batch_size: int = param(8, "samples per process per step", low=1, high=4096)
    lr: float = param(1e-3, "peak learning rate (AdamW)", low=0.0, high=1.0)
    warmup_steps: int = param(10, "linear warm-up steps, then cosine decay to 10 %", low=0)
    weight_decay: float = param(0.01, "AdamW weight decay", low=0.0, high=1.0)
    grad_clip: float = param(1.0, "gradient norm clip (0 = off)", low=0.0)
    text_per_batch: int = param(0, "drive task: samples per batch that also get the (long) text "
                                "target; the others train the action head only (0 = all)", low=0)
    checkpoint_every: int = param(0, "also save every N steps (0 = only at the end)", low=0)
    ema_decay: float = param(0.0, "keep an exponential moving average of the weights with this "
                             "decay and save, validate and pass on the average (0 = off)",
                             low=0.0, high=0.99999)
    teachers: list[str] = param([], "drive task: checkpoint dirs of earlier runs whose mean "
                                "meta-action probabilities are soft targets (distill.py)")
    weights: LossWeights = param(LossWeights(), "loss weights")

    def validate(self) -> None:
        if self.teachers and "drive" not in self.tasks:
            raise ConfigError(f"stage {self.name}: teachers need the drive task")
        if bool(self.teachers) != (self.weights.distill > 0):
            raise ConfigError(f"stage {self.name}: teachers and weights.distill go together "
                              f"(teachers={self.teachers}, distill={self.weights.distill})")


@dataclass
class TrainConfig(Config):
    """A whole training run: model, tokenizer, stages, validation and data loading."""

    model: VLAConfig = param(VLAConfig(), "architecture (views/frames are set from the data)")
    stages: list[StageConfig] = param([StageConfig()], "stages in order", min_len=1)
    seed: int = param(0, "seed of weights, data order and task sampling", low=0)
    vocab_size: int = param(2000, "BPE vocabulary size to train", low=300, high=262144)
    tokenizer_samples: int = param(2000, "samples read to train the tokenizer", low=1)
    val_samples: int = param(256, "validation samples for the action metrics", low=1)
    val_text_samples: int = param(8, "validation samples decoded for QA and text-plan metrics",
                                  low=0)
    val_batch_size: int = param(32, "validation batch size", low=1)
    num_workers: int = param(0, "DataLoader worker processes", low=0, high=64)
    threads: int = param(0, "torch CPU threads per process (0 = leave torch's default)", low=0)

    def validate(self) -> None:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ConfigError(f"stages: names must be unique, got {names}")
