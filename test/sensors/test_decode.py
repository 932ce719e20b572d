"""Decoding of raw and compressed image fields on numpy data (no ROS)."""

import io

import numpy as np
import pytest
from PIL import Image

from vla_driving.sensors.decode import (CompressedImage, DecodeError, DecodeLimits, RawImage,
                                        decode, decode_raw)

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


def _raw(array: np.ndarray, encoding: str, pad: int = 0, bigendian: bool = False) -> RawImage:
    h, w = array.shape[:2]
    rows = array.reshape(h, -1)
    if pad:
        rows = np.concatenate([rows, np.full((h, pad), 0xEE, np.uint8)], axis=1)
    return RawImage(h, w, encoding, rows.shape[1], rows.tobytes(), bigendian)


@pytest.mark.parametrize("encoding, source", [
    ("rgb8", RGB), ("bgr8", RGB[:, :, ::-1]),
    ("rgba8", np.dstack([RGB, np.full((5, 7), 9, np.uint8)])),
    ("bgra8", np.dstack([RGB[:, :, ::-1], np.full((5, 7), 9, np.uint8)])),
])
@pytest.mark.parametrize("pad", [0, 3])
def test_colour_encodings_give_rgb(encoding, source, pad):
    out = decode(_raw(np.ascontiguousarray(source), encoding, pad=pad))
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, RGB)


def test_raw_decode_is_a_view_of_the_message_buffer():
    data = bytearray(_raw(RGB, "bgr8", pad=4).data)
    out = decode_raw(RawImage(5, 7, "bgr8", 7 * 3 + 4, data))
    assert np.shares_memory(out, np.frombuffer(data, np.uint8))
    data[0] = 0  # first pixel's blue byte, seen through the view as the last channel
    assert out[0, 0, 2] == 0


def test_mono8_and_mono16_both_byte_orders():
    mono = RNG.integers(0, 256, size=(4, 6), dtype=np.uint8)
    np.testing.assert_array_equal(decode(_raw(mono, "mono8", pad=2)), mono)
    deep = RNG.integers(0, 65536, size=(4, 6), dtype=np.uint16)
    for big in (False, True):
        rows = deep.astype(">u2" if big else "<u2").view(np.uint8).reshape(4, 12)
        rows = np.concatenate([rows, np.zeros((4, 2), np.uint8)], axis=1)
        out = decode(RawImage(4, 6, "mono16", 14, rows.tobytes(), big))
        assert out.shape == (4, 6)
        np.testing.assert_array_equal(out.astype(np.uint16), deep)


@pytest.mark.parametrize("fields, reason", [
    (RawImage(5, 7, "yuv422", 14, b"\0" * 70), "bad_encoding"),
    (RawImage(5, 7, "rgb8", 20, b"\0" * 105), "bad_step"),
    (RawImage(5, 7, "rgb8", 21, b"\0" * 104), "truncated"),
    (RawImage(0, 7, "rgb8", 21, b""), "zero_size"),
    (RawImage(5, 0, "rgb8", 0, b""), "zero_size"),
    (RawImage(5, 9000, "mono8", 9000, b"\0" * 45000), "too_large"),
    (CompressedImage("tiff", b"II*\0"), "bad_encoding"),
    (CompressedImage("jpeg", b"\xff\xd8\xff\xe0 not really a jpeg"), "undecodable"),
    (CompressedImage("png", b""), "zero_size"),
    (RawImage(2, 2, "rgb8", 6, [0] * 12), "bad_data"),
    (CompressedImage("png", "not bytes"), "bad_data"),
])
def test_bad_input_names_the_reason(fields, reason):
    with pytest.raises(DecodeError) as info:
        decode(fields)
    assert info.value.reason == reason
    assert str(info.value).startswith(reason)


def _encode(array: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def test_png_round_trip_is_exact_and_jpeg_is_close():
    np.testing.assert_array_equal(decode(CompressedImage("png", _encode(RGB, "PNG"))), RGB)
    smooth = np.tile(np.linspace(0, 255, 32, dtype=np.uint8)[None, :, None], (16, 1, 3))
    out = decode(CompressedImage("rgb8; jpeg compressed bgr8", _encode(smooth, "JPEG")))
    assert out.shape == (16, 32, 3)
    assert np.abs(out.astype(int) - smooth.astype(int)).mean() < 4


def test_sixteen_bit_png_gives_mono16():
    deep = (np.arange(12, dtype=np.uint16) * 5000).reshape(3, 4)
    out = decode(CompressedImage("png", _encode(deep, "PNG")))
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, deep)


def test_grey_png_gives_mono():
    mono = RNG.integers(0, 256, size=(4, 6), dtype=np.uint8)
    np.testing.assert_array_equal(decode(CompressedImage("png", _encode(mono, "PNG"))), mono)


def test_compressed_size_limit_checked_before_decoding():
    data = _encode(np.zeros((64, 64, 3), np.uint8), "PNG")
    with pytest.raises(DecodeError) as info:
        decode(CompressedImage("png", data), DecodeLimits(max_width=32, max_height=32))
    assert info.value.reason == "too_large"


def test_truncated_jpeg_is_undecodable():
    data = _encode(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8), "JPEG")
    with pytest.raises(DecodeError) as info:
        decode(CompressedImage("jpeg", data[: len(data) // 2]))
    assert info.value.reason == "undecodable"
