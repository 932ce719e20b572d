"""Decode bag images (CompressedImage JPEG/PNG or raw Image encodings) to HxWx3 RGB uint8."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

JPEG_QUALITY = 90


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def decode_image(fmt: str, data: bytes) -> np.ndarray:
    """RGB uint8 image; raises ValueError naming the format when it cannot be decoded."""
    if fmt.startswith("raw:"):
        _, encoding, h, w, step = fmt.split(":")
        h, w, step = int(h), int(w), int(step)
        buf = np.frombuffer(data, dtype=np.uint8)
        if buf.size < h * step:
            raise ValueError(f"raw {encoding} image: {buf.size} bytes for {h} rows of {step}")
        rows = buf[: h * step].reshape(h, step)
        if encoding in ("rgb8", "bgr8"):
            img = rows[:, : w * 3].reshape(h, w, 3)
            return img[..., ::-1].copy() if encoding == "bgr8" else img.copy()
        if encoding == "mono8":
            return np.repeat(rows[:, :w, None], 3, axis=2)
        raise ValueError(f"unsupported raw image encoding {encoding!r}")
    try:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except Exception as exc:
        raise ValueError(f"cannot decode {fmt!r} image: {exc}") from exc
