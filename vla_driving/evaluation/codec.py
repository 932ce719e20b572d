"""H.265 round trip of one image, with the real libx265 encoder through PyAV.

PyAV's wheels ship FFmpeg with libx265, so no download happens at run time. Where PyAV is not
installed, `block_dct_quantiser` stands in: an 8x8 DCT with a JPEG-like quantisation table. It is
NOT H.265 and the report names it as `h265_compression[emulated]` (see `h265_backend`).
"""

from __future__ import annotations

import io
import logging

import numpy as np

LOG = logging.getLogger(__name__)

H265_CRF = (30, 36, 42, 47, 51)       # libx265 constant rate factor per severity (51 = worst)
H265_PRESET = "ultrafast"
DCT_BLOCK = 8
DCT_QUALITY = (40, 25, 15, 8, 3)      # JPEG-style quality per severity for the emulation
_JPEG_LUMA_TABLE = np.array([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], dtype=np.float32)


def h265_backend() -> str:
    """"libx265" when PyAV with its x265 encoder is present, else "block-dct-emulation"."""
    try:
        import av
        av.codec.Codec("libx265", "w")
    except Exception:  # noqa: BLE001 - any failure means the real encoder is unusable here
        return "block-dct-emulation"
    return "libx265"


def h265_roundtrip(image: np.ndarray, severity: int) -> np.ndarray:
    """Encode one RGB frame with libx265 at the severity's CRF and decode it again."""
    if h265_backend() != "libx265":
        return block_dct_quantiser(image, severity)
    import av
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, (-h) % DCT_BLOCK), (0, (-w) % DCT_BLOCK), (0, 0)), mode="edge")
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="hevc") as container:
        stream = container.add_stream("libx265", rate=1)
        stream.width, stream.height = padded.shape[1], padded.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(H265_CRF[severity - 1]), "preset": H265_PRESET,
                          "x265-params": "log-level=none"}
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(padded), format="rgb24")
        for packet in list(stream.encode(frame)) + list(stream.encode()):
            container.mux(packet)
    with av.open(io.BytesIO(buffer.getvalue()), "r", format="hevc") as container:
        decoded = next(container.decode(video=0)).to_ndarray(format="rgb24")
    return np.ascontiguousarray(decoded[:h, :w])


def _dct_matrix(n: int = DCT_BLOCK) -> np.ndarray:
    k = np.arange(n)
    m = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m.astype(np.float32)


def block_dct_quantiser(image: np.ndarray, severity: int) -> np.ndarray:
    """Emulated compression: 8x8 block DCT per channel, quantised with a scaled JPEG table."""
    quality = DCT_QUALITY[severity - 1]
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    table = np.maximum(np.floor((_JPEG_LUMA_TABLE * scale + 50) / 100), 1)
    h, w = image.shape[:2]
    x = np.pad(image.astype(np.float32) - 128,
               ((0, (-h) % DCT_BLOCK), (0, (-w) % DCT_BLOCK), (0, 0)), mode="edge")
    hb, wb = x.shape[0] // DCT_BLOCK, x.shape[1] // DCT_BLOCK
    blocks = x.reshape(hb, DCT_BLOCK, wb, DCT_BLOCK, 3).transpose(0, 2, 4, 1, 3)
    d = _dct_matrix()
    coeffs = d @ blocks @ d.T
    restored = d.T @ (np.round(coeffs / table) * table) @ d
    out = restored.transpose(0, 3, 1, 4, 2).reshape(x.shape)[:h, :w] + 128
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
