"""Vision frontend: a small ResNet per view and frame, temporal aggregation, 2-layer projector.

`VisualFrontend` is the part exported to ONNX / TensorRT (input `images`, output `visual_embeds`),
so its forward has only static shapes from the config and no data-dependent Python control flow.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vla_driving.model.config import VisionConfig

GROUPS = 4  # GroupNorm groups: batch-size independent, so DDP and export behave like training


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(GROUPS, channels), channels)


class ResidualBlock(nn.Module):
    """Stride-2 basic block with a 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False)
        self.norm1 = _norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.norm2 = _norm(c_out)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride=2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ImageEncoder(nn.Module):
    """[M, 3, H, W] -> [M, grid*grid, C] per-image tokens."""

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        # A fixed average pool (not adaptive): static for ONNX export, same result.
        self.pool = cfg.feature_size // cfg.grid
        self.stem = nn.Sequential(
            nn.Conv2d(3, cfg.stem_channels, 3, stride=2, padding=1, bias=False),
            _norm(cfg.stem_channels), nn.ReLU())
        chans = [cfg.stem_channels, *cfg.stage_channels]
        self.stages = nn.Sequential(*[ResidualBlock(a, b) for a, b in zip(chans[:-1], chans[1:])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.stages(self.stem(x))
        feats = F.avg_pool2d(feats, self.pool, stride=self.pool)
        return feats.flatten(2).transpose(1, 2)


class TemporalAggregator(nn.Module):
    """T frames of tokens -> one set: a learned softmax-weighted mean plus the last-first motion.

    Keeps the LLM's visual token count at views x grid^2 whatever the history length.
    """

    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.frame_logits = nn.Parameter(torch.zeros(cfg.num_frames))
        self.position = nn.Parameter(torch.zeros(cfg.num_tokens, 2 * cfg.feature_dim))
        nn.init.normal_(self.position, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [B, T, N, P, C] -> [B, N*P, 2C]."""
        weights = torch.softmax(self.frame_logits, dim=0).view(1, -1, 1, 1, 1)
        mean = (tokens * weights).sum(dim=1)
        motion = tokens[:, -1] - tokens[:, 0]
        out = torch.cat([mean, motion], dim=-1)
        return out.flatten(1, 2) + self.position


class Projector(nn.Module):
    """2-layer MLP with GELU into the LLM embedding space (OpenDriveVLA, Sce2DriveX)."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, d_out), nn.GELU(), nn.Linear(d_out, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class VisualFrontend(nn.Module):
    """images float32 [B, T*N, 3, H, W] (normalised, frame-major) -> visual_embeds [B, K, D_llm]."""

    def __init__(self, cfg: VisionConfig, llm_hidden: int):
        super().__init__()
        self.cfg = cfg
        self.encoder = ImageEncoder(cfg)
        self.aggregator = TemporalAggregator(cfg)
        self.projector = Projector(2 * cfg.feature_dim, llm_hidden)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        size = c.image_size
        tokens = self.encoder(images.reshape(-1, 3, size, size))
        tokens = tokens.reshape(-1, c.num_frames, c.num_views, c.grid * c.grid, c.feature_dim)
        return self.projector(self.aggregator(tokens))


def normalise_images(images: torch.Tensor, cfg: VisionConfig) -> torch.Tensor:
    """uint8 [B, T, N, 3, H, W] -> float32 [B, T*N, 3, S, S] as `VisualFrontend` expects.

    Resizes (bilinear, antialiased) when the camera size differs from `cfg.image_size`. The
    bundle's processor (`processor.VlaProcessor.images`) runs the same transform from the
    manifest's spec.
    """
    return normalise_uint8(images, cfg.num_frames, cfg.num_views, (cfg.image_size, cfg.image_size),
                           cfg.image_mean, cfg.image_std)


def normalise_uint8(images: torch.Tensor, frames: int, views: int, size: tuple[int, int] | None,
                    mean, std, crop: tuple[int, int, int, int] | None = None,
                    resample: str = "bilinear", bgr: bool = False) -> torch.Tensor:
    """uint8 [B, T, N, 3, H, W] -> float32 [B, T*N, 3, h, w]: crop (top, left, height, width),
    scale to [0, 1], resize to `size` (None: keep), (x - mean) / std, RGB -> BGR if asked."""
    if images.dim() != 6 or images.shape[1:3] != (frames, views):
        raise ValueError(f"images: expected [B, {frames}, {views}, 3, H, W], "
                         f"got {tuple(images.shape)}")
    b, t, n = images.shape[:3]
    if crop is not None:
        top, left, height, width = crop
        if top + height > images.shape[-2] or left + width > images.shape[-1]:
            raise ValueError(f"crop {crop} does not fit images of {tuple(images.shape[-2:])}")
        images = images[..., top:top + height, left:left + width]
    x = images.reshape(b * t * n, *images.shape[3:]).float() / 255.0
    if size is not None and x.shape[-2:] != tuple(size):
        x = _resize(x, tuple(size), resample)
    mean = torch.tensor(mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(std, device=x.device).view(1, 3, 1, 1)
    x = (x - mean) / std
    if bgr:
        x = x.flip(1)
    return x.reshape(b, t * n, 3, *x.shape[-2:])


def _resize(x: torch.Tensor, size: tuple[int, int], resample: str) -> torch.Tensor:
    if resample == "nearest":
        return F.interpolate(x, size=size, mode="nearest")
    return F.interpolate(x, size=size, mode=resample, antialias=True, align_corners=False)
