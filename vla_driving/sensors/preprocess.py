"""Image preprocessing described by data, so a model bundle carries its own preprocessing.

A `PreprocessSpec` is a plain dataclass that round-trips through `to_dict()`/`from_dict()` (the
bundle manifest stores the dict). `apply` runs it on one decoded image (see `decode`): crop in
source pixels, resize, scale to [0, 1], per-channel mean/std, channel order and layout, giving a
float32 array. Mono images become three equal channels, so every spec yields 3 channels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

import numpy as np

LAYOUTS = ("chw", "hwc")
CHANNEL_ORDERS = ("rgb", "bgr")
RESAMPLES = ("bilinear", "nearest", "bicubic")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_UINT8_MAX = 255.0
_UINT16_MAX = 65535.0


@dataclass(frozen=True)
class PreprocessSpec:
    """What the model expects. `crop` is (top, left, height, width) in source pixels, or None;
    `resize` is (height, width) after cropping, or None to keep the size."""

    resize: tuple[int, int] | None = None
    crop: tuple[int, int, int, int] | None = None
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    channel_order: str = "rgb"
    layout: str = "chw"
    resample: str = "bilinear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", _floats("mean", self.mean, 3))
        object.__setattr__(self, "std", _floats("std", self.std, 3))
        if any(s <= 0.0 for s in self.std):
            raise ValueError(f"std={self.std}: every value must be > 0")
        if self.resize is not None:
            object.__setattr__(self, "resize", _positive_ints("resize", self.resize, 2))
        if self.crop is not None:
            crop = _ints("crop", self.crop, 4)
            if crop[0] < 0 or crop[1] < 0 or crop[2] <= 0 or crop[3] <= 0:
                raise ValueError(f"crop={crop}: needs top, left >= 0 and height, width > 0")
            object.__setattr__(self, "crop", crop)
        for name, value, allowed in (("channel_order", self.channel_order, CHANNEL_ORDERS),
                                     ("layout", self.layout, LAYOUTS),
                                     ("resample", self.resample, RESAMPLES)):
            if value not in allowed:
                raise ValueError(f"{name}={value!r}: allowed values are {list(allowed)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists) for the bundle manifest."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PreprocessSpec":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"preprocess: unknown key {unknown[0]!r} (known: {sorted(known)})")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()})

    def output_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """Shape of `apply` on an image of `height` x `width`."""
        if self.crop is not None:
            height, width = self.crop[2], self.crop[3]
        if self.resize is not None:
            height, width = self.resize
        return (3, height, width) if self.layout == "chw" else (height, width, 3)


def _floats(name: str, value: Any, n: int) -> tuple[float, ...]:
    out = tuple(float(v) for v in value)
    if len(out) != n or not all(np.isfinite(out)):
        raise ValueError(f"{name}={value!r}: needs {n} finite numbers")
    return out


def _ints(name: str, value: Any, n: int) -> tuple[int, ...]:
    out = tuple(value)
    if len(out) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                for v in out):
        raise ValueError(f"{name}={value!r}: needs {n} integers")
    return tuple(int(v) for v in out)


def _positive_ints(name: str, value: Any, n: int) -> tuple[int, ...]:
    out = _ints(name, value, n)
    if any(v <= 0 for v in out):
        raise ValueError(f"{name}={value!r}: every value must be > 0")
    return out


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
