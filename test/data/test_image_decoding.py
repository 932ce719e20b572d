"""Bag image decoding (compressed and raw encodings) and the instruction text mapping."""

import numpy as np
import pytest

from vla_driving.data.images import decode_image, encode_jpeg
from vla_driving.sim.commands import COMMANDS, command_from_text, command_text


def test_raw_encodings_decode_to_rgb():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    padded = np.concatenate([rgb.reshape(2, 9), np.zeros((2, 3), np.uint8)], 1)  # step 12
    assert np.array_equal(decode_image("raw:rgb8:2:3:12", padded.tobytes()), rgb)
    assert np.array_equal(decode_image("raw:bgr8:2:3:12", padded.tobytes()), rgb[..., ::-1])
    mono = decode_image("raw:mono8:2:3:3", bytes(range(6)))
    assert mono.shape == (2, 3, 3) and np.array_equal(mono[..., 0], mono[..., 2])


def test_jpeg_round_trip_and_bad_data_is_a_clear_error():
    img = np.full((8, 8, 3), 200, np.uint8)
    assert np.abs(decode_image("jpeg", encode_jpeg(img)).astype(int) - 200).max() <= 2
    with pytest.raises(ValueError, match="cannot decode 'jpeg'"):
        decode_image("jpeg", b"\xff\xd8 not really")
    with pytest.raises(ValueError, match="unsupported raw image encoding"):
        decode_image("raw:yuv422:2:2:4", bytes(8))
    with pytest.raises(ValueError, match="bytes for"):
        decode_image("raw:rgb8:4:4:12", bytes(10))


def test_command_text_round_trip_and_synonyms():
    assert all(command_from_text(command_text(c)) == c for c in COMMANDS)
    assert command_from_text("Please change lane left now") == "change_lane_left"
    assert command_from_text("STOP") == "stop"
    assert command_from_text("sing a song") is None
    with pytest.raises(ValueError, match="unknown command"):
        command_text("fly")
