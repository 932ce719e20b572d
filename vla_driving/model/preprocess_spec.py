"""`PreprocessSpec`: a model's image preprocessing as data (crop, resize, mean/std, layout).

The bundle manifest stores its dict (`to_dict` / `from_dict`); the model's processor
(`vla_driving.model.processor`) runs it on tensors at run time, and `vla_driving.sensors.preprocess`
runs it on one numpy image. It lives in `model/` (numpy only) so that both floors can read it.
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
