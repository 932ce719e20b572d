"""Small numpy image operations the corruptions are built from (no OpenCV, no SciPy).

Images are float32 H x W x 3 in [0, 1] inside the corruptions; uint8 at the boundary.
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601


def to_float(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 uint8 image, got {image.dtype} {image.shape}")
    return image.astype(np.float32) / 255.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def luminance(image: np.ndarray) -> np.ndarray:
    return image @ LUMA


def box_blur(image: np.ndarray, radius: int) -> np.ndarray:
    """Separable mean filter of (2 radius + 1)^2 pixels with edge padding (integral images)."""
    if radius <= 0:
        return image
    out = image
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius + 1, radius)
        padded = np.pad(out, pad, mode="edge")
        cum = np.cumsum(padded, axis=axis, dtype=np.float64)
        size = out.shape[axis]
        hi = np.take(cum, np.arange(2 * radius + 1, 2 * radius + 1 + size), axis=axis)
        lo = np.take(cum, np.arange(0, size), axis=axis)
        out = ((hi - lo) / (2 * radius + 1)).astype(np.float32)
    return out


def shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Translate by whole pixels, repeating the edge into the uncovered border."""
    h, w = image.shape[:2]
    ys = np.clip(np.arange(h) - dy, 0, h - 1)
    xs = np.clip(np.arange(w) - dx, 0, w - 1)
    return image[ys][:, xs]


def line_blur(image: np.ndarray, length: int, angle_rad: float) -> np.ndarray:
    """Mean of copies shifted along a line of `length` pixels (a linear motion-blur kernel)."""
    if length <= 1:
        return image
    steps = np.linspace(-(length - 1) / 2, (length - 1) / 2, length)
    acc = np.zeros_like(image)
    for s in steps:
        acc += shift(image, int(round(s * np.sin(angle_rad))), int(round(s * np.cos(angle_rad))))
    return acc / length


def zoom(image: np.ndarray, factor: float) -> np.ndarray:
    """Zoom in about the centre by `factor` >= 1, keeping the size (bilinear sampling)."""
    h, w = image.shape[:2]
    ys = (np.arange(h) - (h - 1) / 2) / factor + (h - 1) / 2
    xs = (np.arange(w) - (w - 1) / 2) / factor + (w - 1) / 2
    return bilinear_sample(image, ys, xs)


def bilinear_sample(image: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample rows `ys` (H',) and columns `xs` (W',) at fractional positions."""
    h, w = image.shape[:2]
    y0 = np.clip(np.floor(ys).astype(int), 0, h - 1)
    x0 = np.clip(np.floor(xs).astype(int), 0, w - 1)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy = np.clip(ys - y0, 0, 1)[:, None, None].astype(np.float32)
    fx = np.clip(xs - x0, 0, 1)[None, :, None].astype(np.float32)
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    ys = (np.arange(height) + 0.5) * h / height - 0.5
    xs = (np.arange(width) + 0.5) * w / width - 0.5
    return bilinear_sample(image, ys, xs)


def plasma_fractal(size: int, rng: np.random.Generator, roughness: float = 3.0) -> np.ndarray:
    """Diamond-square height map in [0, 1] of `size` x `size` (size a power of two), as fog."""
    grid = np.zeros((size + 1, size + 1), dtype=np.float64)
    step, scale = size, 1.0
    while step > 1:
        half = step // 2
        corners = grid[0:-1:step, 0:-1:step]
        mean = (corners + np.roll(corners, -1, 0) + np.roll(corners, -1, 1)
                + np.roll(np.roll(corners, -1, 0), -1, 1)) / 4
        grid[half:-1:step, half:-1:step] = mean + scale * rng.uniform(-1, 1, mean.shape)
        centres = grid[half:-1:step, half:-1:step]
        edge = (centres + np.roll(centres, 1, 0)) / 2
        grid[0:-1:step, half:-1:step] = edge + scale * rng.uniform(-1, 1, edge.shape)
        edge = (centres + np.roll(centres, 1, 1)) / 2
        grid[half:-1:step, 0:-1:step] = edge + scale * rng.uniform(-1, 1, edge.shape)
        step, scale = half, scale / roughness ** 0.5
    out = grid[:-1, :-1]
    return (out - out.min()) / max(out.max() - out.min(), 1e-9)


def disk_mask(h: int, w: int, cy: float, cx: float, ry: float, rx: float,
              feather: float = 0.0) -> np.ndarray:
    """Soft elliptical mask (H, W) in [0, 1]: 1 inside, fading over `feather` of the radius."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((yy - cy) / max(ry, 1e-3)) ** 2 + ((xx - cx) / max(rx, 1e-3)) ** 2)
    if feather <= 0:
        return (r <= 1).astype(np.float32)
    return np.clip((1 + feather - r) / feather, 0, 1).astype(np.float32)
