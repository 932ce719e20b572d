"""Image preprocessing described by data, so a model bundle carries its own preprocessing.

A `PreprocessSpec` is a plain dataclass that round-trips through `to_dict()`/`from_dict()` (the
bundle manifest stores the dict). `apply` runs it on one decoded image (see `decode`): crop in
source pixels, resize, scale to [0, 1], per-channel mean/std, channel order and layout, giving a
float32 array. Mono images become three equal channels, so every spec yields 3 channels.
"""

from __future__ import annotations

import numpy as np

from vla_driving.model.preprocess_spec import (CHANNEL_ORDERS, IMAGENET_MEAN, IMAGENET_STD,
                                               LAYOUTS, RESAMPLES, PreprocessSpec)

__all__ = ["CHANNEL_ORDERS", "IMAGENET_MEAN", "IMAGENET_STD", "LAYOUTS", "RESAMPLES",
           "PreprocessSpec", "apply", "apply_many"]

_UINT8_MAX = 255.0
_UINT16_MAX = 65535.0


def _to_rgb_float(image: np.ndarray) -> np.ndarray:
    """H x W x 3 float32 in [0, 1] from uint8/uint16 colour or mono."""
    scale = _UINT16_MAX if image.dtype == np.uint16 else _UINT8_MAX
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"preprocess expects uint8 or uint16 images, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(f"preprocess expects H x W, H x W x 1 or H x W x 3, got {image.shape}")
    out = image.astype(np.float32) * np.float32(1.0 / scale)
    return np.repeat(out, 3, axis=2) if out.shape[2] == 1 else out


def _resize(image: np.ndarray, size: tuple[int, int], resample: str) -> np.ndarray:
    """Resize a float32 H x W x 3 image per channel with Pillow's float mode ("F")."""
    from PIL import Image

    height, width = size
    if image.shape[:2] == (height, width):
        return image
    method = {"bilinear": Image.BILINEAR, "nearest": Image.NEAREST,
              "bicubic": Image.BICUBIC}[resample]
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(image[:, :, c]), mode="F")
                           .resize((width, height), method)) for c in range(3)]
    return np.stack(channels, axis=2)


def apply(spec: PreprocessSpec, image: np.ndarray) -> np.ndarray:
    """Run `spec` on one decoded image; returns float32 of `spec.output_shape(...)`."""
    if spec.crop is not None:
        top, left, height, width = spec.crop
        if top + height > image.shape[0] or left + width > image.shape[1]:
            raise ValueError(f"crop {spec.crop} does not fit an image of shape {image.shape}")
        image = image[top:top + height, left:left + width]
    out = _to_rgb_float(image)
    if spec.resize is not None:
        out = _resize(out, spec.resize, spec.resample)
    out = (out - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    if spec.channel_order == "bgr":
        out = out[:, :, ::-1]
    if spec.layout == "chw":
        out = out.transpose(2, 0, 1)
    return np.ascontiguousarray(out, dtype=np.float32)


def apply_many(spec: PreprocessSpec, images: list[np.ndarray]) -> np.ndarray:
    """Stack of `apply` over several images (e.g. the T x N views of an observation)."""
    return np.stack([apply(spec, im) for im in images]) if images else np.zeros((0,), np.float32)
