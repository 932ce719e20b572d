"""Architecture configs of the VLA model: one dataclass per part, one `VLAConfig` over them.

The whole `VLAConfig` is saved as JSON next to the weights, so a checkpoint rebuilds itself
without the training code. Sizes go from a tiny test model to a real LLM loaded from a local
directory (`llm.pretrained_dir`); nothing is ever downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.constants import FRAME_INTERVAL_S, NUM_WAYPOINTS

NUM_CONTROL_STEPS = 2      # [current, next]
NUM_CONTROL_FIELDS = 4     # speed, steering angle, acceleration, steering rate
EGO_STATE_DIM = 3          # speed, yaw rate, longitudinal acceleration
NUM_PAST_POSITIONS = 4


@dataclass
class VisionConfig(Config):
    """Small ResNet over every view and frame, then temporal aggregation to a bounded token grid."""

    image_size: int = param(64, "square input side in pixels (the bundle preprocessing resizes)",
                            low=16, high=1024)
    num_views: int = param(2, "cameras per frame (config order)", low=1, high=16)
    num_frames: int = param(2, "history frames per sample, oldest first", low=1, high=16)
    stem_channels: int = param(16, "channels of the stride-2 stem convolution", low=4, high=512)
    stage_channels: list[int] = param([24, 32, 48], "channels of each stride-2 residual stage",
                                      low=4, high=2048, min_len=1)
    frame_interval_s: float = param(FRAME_INTERVAL_S, "time between the history frames (s), in "
                                    "training and at run time (the policy picks frames by stamp)",
                                    low=0.0, high=10.0)
    grid: int = param(2, "tokens per view are grid x grid (adaptive average pool)", low=1, high=16)
    image_mean: list[float] = param([0.5, 0.5, 0.5], "per-channel mean after scaling to [0, 1]")
    image_std: list[float] = param([0.25, 0.25, 0.25], "per-channel std after scaling to [0, 1]",
                                   low=1e-6)

    def validate(self) -> None:
        if len(self.image_mean) != 3 or len(self.image_std) != 3:
            raise ConfigError("image_mean/image_std: need exactly 3 values (RGB)")
        reduced = self.feature_size
        if reduced < self.grid or reduced % self.grid:
            raise ConfigError(f"grid={self.grid}: the {reduced}px feature map of image_size="
                              f"{self.image_size} must be a multiple of the grid")

    @property
    def feature_size(self) -> int:
        """Side of the encoder's last feature map (each stride-2 conv: ceil(n / 2))."""
        size = self.image_size
        for _ in range(len(self.stage_channels) + 1):
            size = (size + 1) // 2
        return size

    @property
    def feature_dim(self) -> int:
        return self.stage_channels[-1]

    @property
    def num_tokens(self) -> int:
        return self.num_views * self.grid * self.grid


@dataclass
class LLMConfig(Config):
    """A Hugging Face Qwen2 causal LM built from these sizes, or loaded from a local directory."""

    pretrained_dir: str = param("", "local directory of a Hugging Face causal LM; empty = build "
                                "a Qwen2 from the sizes below (never downloaded)")
    hidden_size: int = param(192, "embedding width", low=8, high=16384)
    intermediate_size: int = param(512, "MLP width", low=8, high=65536)
    num_layers: int = param(3, "decoder layers", low=1, high=128)
    num_heads: int = param(4, "attention heads", low=1, high=128)
    num_kv_heads: int = param(2, "key/value heads (grouped-query attention)", low=1, high=128)
    max_positions: int = param(512, "maximum sequence length", low=32, high=131072)
    vocab_size: int = param(3000, "tokenizer vocabulary size (set from the trained tokenizer)",
                            low=64, high=262144)

    def validate(self) -> None:
        if self.hidden_size % self.num_heads or self.num_heads % self.num_kv_heads:
            raise ConfigError(f"hidden_size={self.hidden_size}, num_heads={self.num_heads}, "
                              f"num_kv_heads={self.num_kv_heads}: heads must divide evenly")


@dataclass
class HeadConfig(Config):
    """Learnable action queries and the 2-layer MLP that reads them (LMGenDrive)."""

    num_queries: int = param(4, "learnable action query tokens appended to the prompt", low=1, high=64)
    hidden: int = param(256, "hidden width of the 2-layer action MLP", low=8, high=8192)
    waypoint_scale_m: float = param(4.0, "head outputs are waypoint residuals in units of this",
                                    low=1e-3)
    residual_to_constant_velocity: bool = param(True, "predict waypoints as a correction of the "
                                                "constant-velocity extrapolation of the ego speed")
    control_scale: list[float] = param([10.0, 0.2, 3.0, 0.2], "scale of speed, steering angle, "
                                       "acceleration, steering rate outputs", low=1e-6)
    state_token: bool = param(True, "also feed ego state and past positions as one embedded token")

    def validate(self) -> None:
        if len(self.control_scale) != NUM_CONTROL_FIELDS:
            raise ConfigError(f"control_scale: need {NUM_CONTROL_FIELDS} values")


@dataclass
class VLAConfig(Config):
    """The whole model: vision frontend, projector, LLM, action head, generation limits."""

    vision: VisionConfig = param(VisionConfig(), "vision encoder and temporal aggregation")
    llm: LLMConfig = param(LLMConfig(), "the causal language model")
    head: HeadConfig = param(HeadConfig(), "action queries and MLP head")
    num_waypoints: int = param(NUM_WAYPOINTS, "future waypoints at 0.5 s spacing", low=1, high=64)
    max_new_tokens: int = param(160, "greedy generation limit of the text path", low=1, high=4096)
