"""A small untrained VLA model and inputs for the model tests (no training, no data files)."""

import torch

from vla_driving.model.config import HeadConfig, LLMConfig, VisionConfig, VLAConfig
from vla_driving.model.vla import VLAModel

FRAMES, VIEWS, SIZE = 2, 2, 32


def small_config(state_token: bool = True) -> VLAConfig:
    return VLAConfig(
        vision=VisionConfig(image_size=SIZE, num_frames=FRAMES, num_views=VIEWS, stem_channels=8,
                            stage_channels=[8, 16], grid=2),
        llm=LLMConfig(hidden_size=32, intermediate_size=64, num_layers=2, num_heads=4,
                      num_kv_heads=2, vocab_size=64, max_positions=128),
        head=HeadConfig(num_queries=3, hidden=32, state_token=state_token),
        max_new_tokens=12)


def small_model(seed: int = 0, state_token: bool = True) -> VLAModel:
    torch.manual_seed(seed)
    return VLAModel(small_config(state_token)).eval()


def inputs(batch: int = 2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, FRAMES * VIEWS, 3, SIZE, SIZE, generator=g)
    ego = torch.tensor([[8.0, 0.01, 0.5]]).repeat(batch, 1)
    past = torch.randn(batch, 4, 2, generator=g)
    return images, ego, past
