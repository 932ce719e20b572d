"""The 15 camera corruptions DriveRX is evaluated under (the DriveBench suite), severities 1-5.

Every corruption is a function `(image uint8 HxWx3, severity 1..5, rng) -> uint8 HxWx3` with the
same shape and dtype; all randomness comes from the generator, so a seed makes it reproducible.
The parameters follow ImageNet-C where DriveBench reuses it (brightness, fog, snow, saturate,
motion and zoom blur) and are scaled to the image size; the rest are our own numpy models of the
effect, documented in docs/evaluation.md. `apply_to_frame` derives the generator from
(seed, camera, stamp), so a replay sees the same corruption every run.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np

from vla_driving.evaluation import image_ops as ops
from vla_driving.evaluation.codec import h265_roundtrip

SEVERITIES = (1, 2, 3, 4, 5)
Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

BRIGHTNESS_DELTA = (0.1, 0.2, 0.3, 0.4, 0.5)            # ImageNet-C, added to HSV value
DARK_GAMMA = (1.5, 2.0, 2.5, 3.0, 3.5)
DARK_GAIN = (0.6, 0.5, 0.4, 0.3, 0.2)
DARK_NOISE = (0.01, 0.015, 0.02, 0.025, 0.03)           # sensor noise std after the gain
SNOW_DENSITY = (0.003, 0.006, 0.01, 0.015, 0.02)         # fraction of pixels seeding a flake
SNOW_WHITEN = (0.1, 0.2, 0.3, 0.4, 0.5)
FOG_STRENGTH = (0.4, 0.7, 1.0, 1.5, 2.0)                 # ImageNet-C fog (c[0]) scale
RAIN_DROPS = (0.001, 0.002, 0.0035, 0.005, 0.0075)        # streak seeds per pixel
RAIN_LENGTH = (0.06, 0.08, 0.1, 0.12, 0.15)             # streak length / image height
LENS_RADIUS = (0.1, 0.15, 0.2, 0.27, 0.35)              # obstacle radius / min(H, W)
SPLASH_DROPS = (2, 4, 6, 8, 10)
SPLASH_RADIUS = (0.06, 0.08, 0.1, 0.12, 0.14)
SATURATION = (1.5, 2.0, 3.0, 5.0, 10.0)
MOTION_LENGTH = (0.03, 0.05, 0.08, 0.11, 0.15)          # kernel length / image width
ZOOM_MAX = (1.06, 1.11, 1.16, 1.21, 1.26)               # ImageNet-C zoom blur upper factors
ZOOM_STEPS = 6
BIT_ERROR_RATE = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)         # flipped bits per bit
QUANT_BITS = (5, 4, 3, 2, 1)                             # bits kept per colour channel
CAMERA_CRASH_PROB = (0.2, 0.4, 0.6, 0.8, 1.0)            # chance that a camera is dead
FRAME_LOST_PROB = (0.1, 0.2, 0.3, 0.4, 0.5)              # chance that one frame is lost


def _level(table: tuple, severity: int):
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    return table[severity - 1]


def brightness(image, severity, rng):
    x = ops.to_float(image)
    value = x.max(axis=2, keepdims=True)
    new_value = np.clip(value + _level(BRIGHTNESS_DELTA, severity), 0, 1)
    scaled = np.where(value > 1e-6, x * new_value / np.maximum(value, 1e-6), new_value)
    return ops.to_uint8(scaled)


def dark(image, severity, rng):
    x = ops.to_float(image) ** _level(DARK_GAMMA, severity) * _level(DARK_GAIN, severity)
    return ops.to_uint8(x + rng.normal(0, _level(DARK_NOISE, severity), x.shape))


def snow(image, severity, rng):
    x = ops.to_float(image)
    h, w = x.shape[:2]
    whiten = _level(SNOW_WHITEN, severity)
    x = (1 - whiten) * x + whiten * np.maximum(x, ops.luminance(x)[..., None] * 1.5 + 0.5)
    flakes = (rng.random((h, w)) < _level(SNOW_DENSITY, severity)).astype(np.float32)
    flakes = ops.box_blur(flakes[..., None], max(1, min(h, w) // 200))[..., 0]
    flakes = ops.line_blur(flakes[..., None], max(3, w // 25), rng.uniform(-2.0, -1.1))[..., 0]
    layer = np.clip(flakes * 3, 0, 1)[..., None]
    return ops.to_uint8(np.clip(x + layer, 0, 1))


def fog(image, severity, rng):
    x = ops.to_float(image)
    h, w = x.shape[:2]
    size = 1 << int(np.ceil(np.log2(max(h, w, 2))))
    haze = ops.plasma_fractal(size, rng)[:h, :w, None]
    c = _level(FOG_STRENGTH, severity)
    peak = x.max()
    return ops.to_uint8(np.clip((x + c * haze) * peak / (peak + c), 0, 1))


def rain(image, severity, rng):
    x = ops.to_float(image)
    h, w = x.shape[:2]
    drops = (rng.random((h, w)) < _level(RAIN_DROPS, severity)).astype(np.float32)[..., None]
    length = max(3, int(_level(RAIN_LENGTH, severity) * h))
    streaks = np.clip(ops.line_blur(drops, length, np.pi / 2 + rng.uniform(-0.3, 0.3)) * length,
                      0, 1)
    dimmed = x * (1 - 0.05 * severity)
    return ops.to_uint8(np.clip(dimmed * (1 - 0.6 * streaks) + 0.8 * streaks, 0, 1))


def lens_obstacle(image, severity, rng):
    x = ops.to_float(image)
    h, w = x.shape[:2]
    r = _level(LENS_RADIUS, severity) * min(h, w)
    cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
    mask = ops.disk_mask(h, w, cy, cx, r, r * rng.uniform(1.0, 1.6), feather=0.3)[..., None]
    dirt = np.array([0.25, 0.22, 0.18], dtype=np.float32) * rng.uniform(0.8, 1.2)
    blurred = ops.box_blur(x, max(1, int(r / 3)))
    return ops.to_uint8(x * (1 - mask) + mask * (0.7 * dirt + 0.3 * blurred))


def water_splash(image, severity, rng):
    x = ops.to_float(image)
    h, w = x.shape[:2]
    blurred = ops.box_blur(x, max(2, min(h, w) // 40))
    out = x.copy()
    for _ in range(_level(SPLASH_DROPS, severity)):
        r = _level(SPLASH_RADIUS, severity) * min(h, w) * rng.uniform(0.6, 1.4)
        mask = ops.disk_mask(h, w, rng.uniform(0, h), rng.uniform(0, w), r, r, feather=0.4)
        mask = mask[..., None]
        out = out * (1 - mask) + mask * np.clip(blurred * 1.1 + 0.05, 0, 1)
    return ops.to_uint8(out)


def camera_crash(image, severity, rng):
    """A dead camera: black frames. Which cameras die is decided per camera (see apply_to_frame)."""
    _level(CAMERA_CRASH_PROB, severity)
    return np.zeros_like(image)


def frame_lost(image, severity, rng):
    """A lost frame arrives black. Which frames are lost is decided per frame (apply_to_frame)."""
    _level(FRAME_LOST_PROB, severity)
    return np.zeros_like(image)


def saturate(image, severity, rng):
    x = ops.to_float(image)
    gray = ops.luminance(x)[..., None]
    return ops.to_uint8(gray + _level(SATURATION, severity) * (x - gray))


def motion_blur(image, severity, rng):
    x = ops.to_float(image)
    half = max(1, round(_level(MOTION_LENGTH, severity) * x.shape[1] / 2))
    length = 2 * half + 1  # odd, so the kernel is centred
    return ops.to_uint8(ops.line_blur(x, length, rng.uniform(-np.pi / 4, np.pi / 4)))


def zoom_blur(image, severity, rng):
    x = ops.to_float(image)
    factors = np.linspace(1.0, _level(ZOOM_MAX, severity), ZOOM_STEPS)
    return ops.to_uint8(np.mean([ops.zoom(x, f) for f in factors], axis=0))


def bit_error(image, severity, rng):
    """Independent bit flips in the raw pixel bytes (a noisy link without error correction)."""
    flat = np.ascontiguousarray(image).reshape(-1).copy()
    bits = np.unpackbits(flat)
    flips = rng.random(bits.shape) < _level(BIT_ERROR_RATE, severity)
    return np.packbits(bits ^ flips.astype(np.uint8)).reshape(image.shape)


def colour_quantisation(image, severity, rng):
    image = ops.to_uint8(ops.to_float(image))
    bits = _level(QUANT_BITS, severity)
    step = 256 // (1 << bits)
    levels = (1 << bits) - 1
    q = (image // step).astype(np.float32) / levels
    return ops.to_uint8(q)


def h265_compression(image, severity, rng):
    ops.to_float(image)  # validates the input
    return h265_roundtrip(image, severity)


CORRUPTIONS: dict[str, Corruption] = {
    "brightness": brightness, "dark": dark, "snow": snow, "fog": fog, "rain": rain,
    "lens_obstacle": lens_obstacle, "water_splash": water_splash, "camera_crash": camera_crash,
    "frame_lost": frame_lost, "saturate": saturate, "motion_blur": motion_blur,
    "zoom_blur": zoom_blur, "bit_error": bit_error, "colour_quantisation": colour_quantisation,
    "h265_compression": h265_compression,
}


def frame_rng(seed: int, *keys) -> np.random.Generator:
    """A generator that depends only on the seed and the keys (never on Python's hash salt)."""
    digest = hashlib.sha256(repr((int(seed),) + tuple(keys)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def corrupt(name: str, image: np.ndarray, severity: int, seed: int = 0) -> np.ndarray:
    """Apply one corruption to one image (always applied, even the per-frame/per-camera ones)."""
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; known: {', '.join(CORRUPTIONS)}")
    return CORRUPTIONS[name](image, severity, frame_rng(seed, name))


def apply_to_frame(name: str, image: np.ndarray, severity: int, seed: int, camera: str,
                   stamp_ns: int) -> np.ndarray:
    """The corruption as a camera stream sees it: camera crash hits whole cameras and frame loss
    single frames, with the probabilities of the severity; the others hit every frame."""
    rng = frame_rng(seed, name, camera, int(stamp_ns))
    if name == "camera_crash":
        if frame_rng(seed, name, camera).random() >= _level(CAMERA_CRASH_PROB, severity):
            return image
    elif name == "frame_lost":
        if rng.random() >= _level(FRAME_LOST_PROB, severity):
            return image
    elif name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; known: {', '.join(CORRUPTIONS)}")
    return CORRUPTIONS[name](image, severity, rng)


def corrupt_sim_cameras(sim, name: str, severity: int, seed: int) -> None:
    """Make `sim.render_cameras()` return its views as a camera stream with corruption `name`
    delivers them (per camera and frame, seeded by the route): the closed loop's conditions."""
    render = sim.render_cameras

    def corrupted():
        stamp = sim.stamp_ns
        return {cam: apply_to_frame(name, img, severity, seed, cam, stamp)
                for cam, img in render().items()}
    sim.render_cameras = corrupted
