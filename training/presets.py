"""Named training presets: `tiny` (seconds, for tests), `default` (the committed bundle) and
`teacher` (the runs `default` is distilled from). Their `grpo` stage is optional: it runs only
when named (`vla-train train --stages ... grpo`)."""

from __future__ import annotations

from vla_driving.configuration import ConfigError
from vla_driving.model.config import HeadConfig, LLMConfig, VisionConfig, VLAConfig

from .config import GRPOConfig, LossWeights, StageConfig, TrainConfig

# The encoder is trained from scratch here, so "alignment" also trains it; with a pretrained
# encoder, set stage 1 `trainable: [projector]` as in the papers.
ALIGN_PARTS = ["vision", "projector"]
UNDERSTAND_PARTS = ["vision", "projector", "llm", "state"]
DRIVE_PARTS = ["vision", "projector", "llm", "state", "queries", "head"]
# GRPO trains the LLM the action queries also pass through: its validation re-checks the action
# path, and the default keeps a small KL to the drive stage's weights.
GRPO_PARTS = ["llm"]


def tiny() -> TrainConfig:
    model = VLAConfig(
        vision=VisionConfig(image_size=32, stem_channels=8, stage_channels=[8, 16], grid=2),
        llm=LLMConfig(hidden_size=48, intermediate_size=96, num_layers=2, num_heads=4,
                      num_kv_heads=2, max_positions=384),
        head=HeadConfig(num_queries=2, hidden=64),
        max_new_tokens=120)
    stages = [
        StageConfig(name="align", tasks=["caption"], trainable=ALIGN_PARTS, steps=3,
                    batch_size=4, lr=3e-3, warmup_steps=1),
        StageConfig(name="understand", tasks=["qa"], trainable=UNDERSTAND_PARTS, steps=3,
                    batch_size=4, lr=3e-3, warmup_steps=1),
        StageConfig(name="drive", tasks=["drive"], trainable=DRIVE_PARTS, steps=6,
                    batch_size=4, lr=3e-3, warmup_steps=1),
        StageConfig(name="grpo", tasks=["grpo"], trainable=GRPO_PARTS, steps=4, batch_size=4,
                    lr=3e-4, warmup_steps=1, optional=True,
                    grpo=GRPOConfig(group_size=4, eval_prompts=4)),
    ]
    return TrainConfig(model=model, stages=stages, vocab_size=400, tokenizer_samples=64,
                       val_samples=8, val_text_samples=2, val_batch_size=8, threads=1)


def default() -> TrainConfig:
    """The committed bundle's run: distilled from three `teacher` runs (`--teachers`), with
    twice their drive steps (what each change gave: docs/training.md)."""
    return _default_family(drive_steps=10000)


def teacher() -> TrainConfig:
    """The teachers of `make train-default` (three seeds): `default` with 5000 drive steps."""
    return _default_family(drive_steps=5000)


def _default_family(drive_steps: int) -> TrainConfig:
    model = VLAConfig(
        vision=VisionConfig(image_size=64, stem_channels=16, stage_channels=[24, 32, 48], grid=2),
        llm=LLMConfig(hidden_size=160, intermediate_size=448, num_layers=3, num_heads=4,
                      num_kv_heads=2, max_positions=512),
        head=HeadConfig(num_queries=4, hidden=256),
        max_new_tokens=200)
    drive_weights = LossWeights(text=0.5, waypoints=1.0, controls=0.5, meta=0.5, completed=0.2)
    stages = [
        StageConfig(name="align", tasks=["caption"], trainable=ALIGN_PARTS, steps=40,
                    batch_size=16, lr=2e-3, warmup_steps=10),
        StageConfig(name="understand", tasks=["qa", "caption"], trainable=UNDERSTAND_PARTS,
                    steps=100, batch_size=16, lr=1.5e-3, warmup_steps=10),
        StageConfig(name="drive", tasks=["drive", "qa", "caption"], trainable=DRIVE_PARTS,
                    steps=drive_steps, aux_per_batch=4,
                    batch_size=16, lr=1e-3, warmup_steps=40, checkpoint_every=200,
                    text_per_batch=3, weights=drive_weights),
        StageConfig(name="grpo", tasks=["grpo"], trainable=GRPO_PARTS, steps=200, batch_size=8,
                    lr=5e-5, warmup_steps=10, optional=True,
                    grpo=GRPOConfig(group_size=6, kl=0.02, min_difficulty=0.0)),
    ]
    return TrainConfig(model=model, stages=stages, vocab_size=2000, tokenizer_samples=2000,
                       val_samples=384, val_text_samples=6, val_batch_size=32, threads=2)


PRESETS = {"tiny": tiny, "default": default, "teacher": teacher}


def stage_named(cfg: TrainConfig, name: str) -> StageConfig:
    """The stage called `name` (the drive stage is no longer the last one: grpo follows it)."""
    for stage in cfg.stages:
        if stage.name == name:
            return stage
    raise ConfigError(f"no stage {name!r}; stages: {[s.name for s in cfg.stages]}")


def get_preset(name: str) -> TrainConfig:
    if name not in PRESETS:
        raise ConfigError(f"preset {name!r} unknown; known: {sorted(PRESETS)}")
    return PRESETS[name]()
