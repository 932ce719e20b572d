"""Decode camera message fields into numpy images without ROS.

Works on the plain fields of `sensor_msgs/Image` (`RawImage`) and `sensor_msgs/CompressedImage`
(`CompressedImage`), so it is tested on numpy and reused by every node. Output:

- colour encodings (rgb8, bgr8, rgba8, bgra8, jpeg, png colour): H x W x 3 uint8 in RGB order;
- mono8 and greyscale JPEG/PNG: H x W uint8; mono16 (and 16-bit PNG): H x W uint16 in native
  values (`is_bigendian` honoured). `preprocess` turns mono into three equal channels.

Raw images are zero-copy views of the message buffer: `step` padding is sliced off, bgr/bgra
are reversed with a negative stride, the alpha channel is sliced away. Callers that need a
contiguous array call `np.ascontiguousarray` once, at the point where they need it.
Every failure raises `DecodeError` whose `reason` is one of the `REASON_*` codes, so the
ingest can count failures by reason and keep going.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

REASON_ENCODING = "bad_encoding"
REASON_STEP = "bad_step"
REASON_TRUNCATED = "truncated"
REASON_ZERO_SIZE = "zero_size"
REASON_TOO_LARGE = "too_large"
REASON_UNDECODABLE = "undecodable"
REASON_BAD_DATA = "bad_data"

# encoding -> (bytes per pixel, channel index order producing RGB, or None for mono)
_RAW_LAYOUTS: dict[str, tuple[int, slice | None]] = {
    "rgb8": (3, slice(None)),
    "bgr8": (3, slice(None, None, -1)),
    "rgba8": (4, slice(0, 3)),
    "bgra8": (4, slice(2, None, -1)),
    "mono8": (1, None),
    "mono16": (2, None),
}
RAW_ENCODINGS = tuple(_RAW_LAYOUTS)
COMPRESSED_FORMATS = ("jpeg", "png")


class DecodeError(ValueError):
    """An image message that cannot be decoded; `reason` is a short code for counters."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class DecodeLimits:
    """Largest image accepted, so a malformed or hostile message cannot exhaust memory."""

    max_width: int = 4096
    max_height: int = 4096


@dataclass(frozen=True)
class RawImage:
    """The fields of `sensor_msgs/Image` that decoding needs (`data`: any bytes-like buffer)."""

    height: int
    width: int
    encoding: str
    step: int
    data: Any
    is_bigendian: bool = False

    @classmethod
    def rgb8(cls, image: np.ndarray) -> "RawImage":
        """An H x W x 3 uint8 array as an rgb8 `sensor_msgs/Image` carries it."""
        h, w = image.shape[:2]
        return cls(h, w, "rgb8", 3 * w, np.ascontiguousarray(image).tobytes())


@dataclass(frozen=True)
class CompressedImage:
    """The fields of `sensor_msgs/CompressedImage` (`format` as image_transport writes it)."""

    format: str
    data: Any


def _check_size(height: int, width: int, limits: DecodeLimits) -> None:
    if height <= 0 or width <= 0:
        raise DecodeError(REASON_ZERO_SIZE, f"image is {width}x{height}")
    if height > limits.max_height or width > limits.max_width:
        raise DecodeError(REASON_TOO_LARGE, f"image {width}x{height} exceeds the maximum "
                                            f"{limits.max_width}x{limits.max_height}")


def decode_raw(img: RawImage, limits: DecodeLimits = DecodeLimits()) -> np.ndarray:
    """A zero-copy view of a raw image (see the module docstring for the output layout)."""
    layout = _RAW_LAYOUTS.get(img.encoding)
    if layout is None:
        raise DecodeError(REASON_ENCODING, f"encoding {img.encoding!r} is not one of "
                                           f"{list(RAW_ENCODINGS)}")
    bpp, channels = layout
    height, width, step = int(img.height), int(img.width), int(img.step)
    _check_size(height, width, limits)
    row_bytes = width * bpp
    if step < row_bytes:
        raise DecodeError(REASON_STEP, f"step {step} is smaller than a row of {row_bytes} bytes "
                                       f"({width} px x {bpp} B, {img.encoding})")
    buffer = _bytes_view(img.data)
    if buffer.size < step * height:
        raise DecodeError(REASON_TRUNCATED, f"{buffer.size} bytes for {height} rows of step "
                                            f"{step} (needs {step * height})")
    rows = buffer[: step * height].reshape(height, step)[:, :row_bytes]
    if img.encoding == "mono16":
        dtype = np.dtype(">u2" if img.is_bigendian else "<u2")
        return rows.view(dtype).reshape(height, width)
    if channels is None:
        return rows
    return rows.reshape(height, width, bpp)[:, :, channels]


def _bytes_view(data: Any) -> np.ndarray:
    """The message payload as a flat uint8 array, without copying bytes-like buffers."""
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except (TypeError, ValueError, BufferError) as exc:
        raise DecodeError(REASON_BAD_DATA, f"image data is not a byte buffer: {exc}") from None


def _compressed_kind(fmt: str) -> str:
    """image_transport writes e.g. "rgb8; jpeg compressed bgr8"; plain "jpeg"/"png" also occur."""
    text = fmt.lower()
    if "jpeg" in text or "jpg" in text:
        return "jpeg"
    if "png" in text:
        return "png"
    raise DecodeError(REASON_ENCODING, f"compressed format {fmt!r} is not one of "
                                       f"{list(COMPRESSED_FORMATS)}")


def decode_compressed(img: CompressedImage, limits: DecodeLimits = DecodeLimits()) -> np.ndarray:
    """Decode JPEG/PNG with Pillow, checking the header size before decoding the pixels."""
    from PIL import Image, UnidentifiedImageError

    kind = _compressed_kind(img.format)
    data = _bytes_view(img.data)
    if data.size == 0:
        raise DecodeError(REASON_ZERO_SIZE, "compressed image has no data")
    try:
        pil = Image.open(io.BytesIO(data), formats=[kind.upper()])
        _check_size(pil.height, pil.width, limits)
        pil.load()
    except DecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise DecodeError(REASON_TOO_LARGE, str(exc)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DecodeError(REASON_UNDECODABLE, f"{kind} data could not be decoded: {exc}") from None
    if pil.mode == "L":
        return np.asarray(pil)
    if pil.mode in ("I;16", "I;16B", "I"):
        return np.asarray(pil).astype(np.uint16, copy=False)
    return np.asarray(pil.convert("RGB"))


def decode(img: RawImage | CompressedImage, limits: DecodeLimits = DecodeLimits()) -> np.ndarray:
    """Decode either kind of image message fields."""
    if isinstance(img, CompressedImage):
        return decode_compressed(img, limits)
    return decode_raw(img, limits)
