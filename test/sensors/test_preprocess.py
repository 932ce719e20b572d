"""Preprocessing specs: data round trip, crop/resize/normalise/layout on numpy images."""

import json

import numpy as np
import pytest

from vla_driving.sensors.preprocess import (IMAGENET_MEAN, IMAGENET_STD, PreprocessSpec, apply,
                                            apply_many)

IMAGE = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)


def test_spec_round_trips_through_json():
    spec = PreprocessSpec(resize=(8, 8), crop=(0, 1, 4, 4), mean=IMAGENET_MEAN,
                          std=IMAGENET_STD, channel_order="bgr", layout="hwc",
                          resample="nearest")
    again = PreprocessSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec


def test_identity_spec_scales_to_unit_range_chw():
    out = apply(PreprocessSpec(), IMAGE)
    assert out.dtype == np.float32 and out.shape == (3, 4, 6)
    np.testing.assert_allclose(out, IMAGE.transpose(2, 0, 1) / 255.0, rtol=1e-6)


def test_mean_std_and_bgr_order():
    spec = PreprocessSpec(mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 2.0), channel_order="bgr",
                          layout="hwc")
    out = apply(spec, IMAGE)
    expected = ((IMAGE / 255.0 - [0.1, 0.2, 0.3]) / [0.5, 0.25, 2.0])[:, :, ::-1]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_crop_then_resize_nearest():
    spec = PreprocessSpec(crop=(1, 2, 2, 3), resize=(4, 6), resample="nearest", layout="hwc")
    out = apply(spec, IMAGE)
    assert out.shape == spec.output_shape(4, 6) == (4, 6, 3)
    crop = IMAGE[1:3, 2:5] / 255.0
    np.testing.assert_allclose(out, crop.repeat(2, axis=0).repeat(2, axis=1), rtol=1e-6)


def test_bilinear_resize_keeps_a_constant_image_constant():
    out = apply(PreprocessSpec(resize=(7, 3)), np.full((10, 20, 3), 51, np.uint8))
    assert out.shape == (3, 7, 3)
    np.testing.assert_allclose(out, 0.2, rtol=1e-5)


def test_mono8_and_mono16_become_three_equal_channels():
    mono = np.array([[0, 255], [51, 102]], np.uint8)
    out = apply(PreprocessSpec(), mono)
    assert out.shape == (3, 2, 2)
    np.testing.assert_allclose(out[0], mono / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(out[0], out[2])
    deep = np.array([[0, 65535]], np.uint16)
    np.testing.assert_allclose(apply(PreprocessSpec(), deep)[1], [[0.0, 1.0]])


def test_strided_views_are_accepted():
    bgr_view = IMAGE[:, :, ::-1]
    out = apply(PreprocessSpec(layout="hwc", channel_order="bgr"), bgr_view)
    np.testing.assert_allclose(out, IMAGE / 255.0, rtol=1e-6)


def test_apply_many_stacks():
    out = apply_many(PreprocessSpec(resize=(2, 2)), [IMAGE, IMAGE])
    assert out.shape == (2, 3, 2, 2)


@pytest.mark.parametrize("kwargs", [
    {"std": (1.0, 0.0, 1.0)}, {"mean": (0.1, 0.2)}, {"resize": (0, 4)}, {"crop": (-1, 0, 2, 2)},
    {"layout": "nchw"}, {"channel_order": "rgba"}, {"resample": "lanczos"},
    {"mean": (float("nan"), 0.0, 0.0)},
])
def test_bad_specs_are_refused(kwargs):
    with pytest.raises(ValueError):
        PreprocessSpec(**kwargs)


def test_unknown_key_and_out_of_bounds_crop():
    with pytest.raises(ValueError, match="unknown key 'scale'"):
        PreprocessSpec.from_dict({"scale": 2})
    with pytest.raises(ValueError, match="does not fit"):
        apply(PreprocessSpec(crop=(0, 0, 5, 5)), IMAGE)
