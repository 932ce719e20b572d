"""Training configs: loss weights, one config per stage, and the whole run (presets.py fills them)."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.model.config import VLAConfig

from .rewards import RewardWeights

PARTS = ("vision", "projector", "llm", "state", "queries", "head")
TASKS = ("caption", "qa", "drive", "grpo")
GRPO_PROMPTS = ("plan", "qa")


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
    lead: float = param(0.0, "drive task: the lead car's presence, gap and closing speed read "
                        "from the visual tokens by a training-only head (token_probes.py)",
                        low=0.0)
    lane: float = param(0.0, "drive task: the ego's lateral offset and heading error in its lane "
                        "read from the visual tokens by a training-only head (token_probes.py)",
                        low=0.0)


@dataclass
class GRPOConfig(Config):
    """GRPO on the text path (DriveRX stage 4): `group_size` sampled answers per prompt,
    advantages normalised within the group, rule rewards only (`rewards.RewardWeights`)."""

    prompts: list[str] = param(["plan", "qa"], "prompt kinds: plan (the driving prompt's text "
                               "chain) and qa (one of the frame's questions)",
                               choices=GRPO_PROMPTS, min_len=1)
    group_size: int = param(4, "sampled answers per prompt (G)", low=2, high=64)
    temperature: float = param(1.0, "sampling temperature (also applied to the trained "
                               "log-probabilities)", low=0.05, high=5.0)
    max_new_tokens: int = param(0, "sampling limit (0: the model's max_new_tokens)", low=0)
    kl: float = param(0.0, "weight of the k3 KL estimate to the stage's starting weights "
                      "(0: KL-free, no reference copy kept)", low=0.0)
    skip_uniform_groups: bool = param(True, "DriveRX/DAPO difficulty filtering: a group whose "
                                      "answers all score the same (too easy or too hard) "
                                      "gives no gradient and is dropped from the update")
    min_difficulty: float = param(0.0, "use only frames whose dataset difficulty score is at "
                                  "least this (0: all)", low=0.0)
    eval_prompts: int = param(8, "fixed prompts scored greedily before and after the stage",
                              low=0)
    rewards: RewardWeights = param(RewardWeights(), "rule reward weights")


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
    aux_per_batch: int = param(0, "caption/qa tasks of a stage that also drives: samples per "
                               "batch that get them, so the text skills stay alive at a fraction "
                               "of the CPU time (0 = every sample that has one)", low=0)
    checkpoint_every: int = param(0, "also save every N steps (0 = only at the end)", low=0)
    stop_after: int = param(0, "end the stage after this many steps, on the learning-rate "
                            "schedule of `steps` (0 = run all `steps`): reproduces a run stopped "
                            "early", low=0)
    ema_decay: float = param(0.0, "keep an exponential moving average of the weights with this "
                             "decay and save, validate and pass on the average (0 = off)",
                             low=0.0, high=0.99999)
    teachers: list[str] = param([], "drive task: checkpoint dirs of earlier runs whose mean "
                                "meta-action probabilities are soft targets (distill.py)")
    balance: float = param(0.0, "draw frames by the inverse frequency of their meta-action "
                           "class raised to this power (0: uniform shuffle, 1: every class "
                           "equally often; balance.py)", low=0.0, high=1.0)
    history_dropout: float = param(0.0, "share of samples whose acceleration and past are "
                                   "replaced by a constant-speed past (history_dropout.py): the "
                                   "plan must come from the cameras, not from the ego's motion "
                                   "so far", low=0.0, high=1.0)
    weights: LossWeights = param(LossWeights(), "loss weights")
    grpo: GRPOConfig = param(GRPOConfig(), "the grpo task's settings (batch_size = prompts "
                             "per step)")
    optional: bool = param(False, "run only when named in --stages (a default run skips it)")

    def validate(self) -> None:
        if "grpo" in self.tasks and len(self.tasks) > 1:
            raise ConfigError(f"stage {self.name}: grpo is a stage of its own, got tasks "
                              f"{self.tasks}")
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
