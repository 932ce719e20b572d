"""The model's processor: one image path for training and run time, the manifest's spec drives it,
outputs fail closed, and today's known train/run differences are pinned."""

import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from vla_test_helpers import small_config

from vla_driving.constants import NS_PER_S
from vla_driving.data.label_config import LabelConfig
from vla_driving.data.labels import OdomTrack, labels_at
from vla_driving.model.processor import (EgoHistory, ModelInputError, ModelOutputError,
                                         VlaProcessor)
from vla_driving.model.vision import normalise_images
from vla_driving.model.vla import ActionOutput
from vla_driving.types import EgoState, Observation

ROOT = Path(__file__).resolve().parents[2]
CAMERAS = ("bev_near", "bev_far")
TEN_HZ = tuple(int(k * 0.1 * NS_PER_S) for k in range(16))


def _frames(size: int, seed: int = 0) -> np.ndarray:
    """16 sets x 2 cameras of decoded RGB frames, 0.1 s apart."""
    return np.random.default_rng(seed).integers(0, 256, (16, 2, size, size, 3), dtype=np.uint8)


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _training_images(frames: np.ndarray, size: int) -> torch.Tensor:
    """The training sample's `images` for the newest set, through the dataset's code path."""
    from vla_driving_training.data.dataset import DatasetConfig, DrivingDataset, _Episode

    ds = DrivingDataset([], DatasetConfig(cameras=list(CAMERAS), history=2, image_size=size))
    stored = {cam: (np.array(TEN_HZ, dtype=np.int64), [("png", _png(frames[t, n]))
                                                        for t in range(len(TEN_HZ))])
              for n, cam in enumerate(CAMERAS)}
    return ds._images(_Episode("e", [], stored, None), TEN_HZ[-1])


def _runtime_images(processor: VlaProcessor, frames: np.ndarray) -> torch.Tensor:
    """What `VlaPolicy` feeds: the planner picks the sets once, the processor normalises them."""
    picked = processor.pick_frames(TEN_HZ)
    obs = Observation(TEN_HZ[-1], frames[picked], CAMERAS, EgoState(TEN_HZ[-1]),
                      frame_stamps_ns=tuple(TEN_HZ[i] for i in picked))
    return processor.images(processor.observation_images(obs))


def test_training_sample_and_run_time_give_the_same_image_tensors():
    cfg = small_config()
    processor = VlaProcessor.from_config(cfg, list(CAMERAS))
    frames = _frames(cfg.vision.image_size)
    sample = _training_images(frames, cfg.vision.image_size)
    assert sample.shape == (2, 2, 3, 32, 32) and sample.dtype == torch.uint8
    training = normalise_images(sample[None], cfg.vision)     # what the training step feeds
    torch.testing.assert_close(processor.images(sample[None]), training, rtol=0, atol=0)
    torch.testing.assert_close(_runtime_images(processor, frames), training, rtol=0, atol=0)
    # the frames are the sets 0.5 s apart on both sides: sets 10 and 15 of the 10 Hz history
    assert processor.pick_frames(TEN_HZ) == [10, 15]
    np.testing.assert_array_equal(sample[0, 1].numpy(), frames[10, 1].transpose(2, 0, 1))


def test_a_direct_callers_whole_history_is_picked_a_planner_observation_is_not():
    processor = VlaProcessor.from_config(small_config(), list(CAMERAS))
    frames = _frames(32)
    whole = Observation(TEN_HZ[-1], frames, CAMERAS, EgoState(TEN_HZ[-1]), frame_stamps_ns=TEN_HZ)
    torch.testing.assert_close(processor.images(processor.observation_images(whole)),
                               _runtime_images(processor, frames), rtol=0, atol=0)
    with pytest.raises(ModelInputError, match="do not match"):
        processor.observation_images(Observation(0, frames, ("a", "b"), EgoState(0)))


def test_pinned_camera_size_frames_are_resized_differently_in_training_and_at_run_time():
    """Known difference (module docstring): training stores uint8 frames resized by Pillow, the
    run time resizes in float with torch. Kept as it is; this pins its size."""
    cfg = small_config()
    processor = VlaProcessor.from_config(cfg, list(CAMERAS))
    frames = np.repeat(np.repeat(_frames(16), 4, axis=2), 4, axis=3)   # 64 px, smooth blocks
    training = normalise_images(_training_images(frames, 32)[None], cfg.vision)
    runtime = _runtime_images(processor, frames)
    grey_levels = (training - runtime).abs() * 0.25 * 255   # std 0.25
    assert grey_levels.max() > 0                            # not the same numbers ...
    assert grey_levels.max() < 1.5 and grey_levels.mean() < 0.5   # ... uint8 rounding (measured
    # 1.0 and 0.32 on these frames)


def test_past_positions_agree_with_the_labels_from_the_start_of_a_run():
    """Labels interpolate the odometry and clamp to the first pose; the run time's `EgoHistory`
    clamps to the first state it saw too (it extrapolated at constant speed before, and the
    model steered off the road in the first 2 s of a run)."""
    t = np.arange(0.0, 10.0, 0.1)
    track = OdomTrack.from_arrays((t * NS_PER_S).astype(np.int64), 5.0 * t, 0 * t, 0 * t,
                                  np.full_like(t, 5.0))
    history = EgoHistory()
    pasts = {}
    for k, ti in enumerate(t[:61]):
        ego = EgoState(int(track.t_ns[k]), x=5.0 * ti, speed=5.0)
        pasts[round(ti, 1)] = history.past(ego)
    for t_s in (0.0, 0.5, 1.2, 5.0):
        label = labels_at(track, int(round(t_s * NS_PER_S)), LabelConfig()).past
        np.testing.assert_allclose(pasts[t_s], label, atol=1e-4)
    np.testing.assert_allclose(pasts[0.5][:, 0], [-2.5] * 4, atol=1e-4)   # 0.5 s into the run
    # a gap in the odometry mid-run is still extrapolated at the current speed: no state from
    # 2.0 to 2.9 s (the car jumped to x = 20): the -0.5 s position (2.4 s) is 2.5 m behind,
    # not the 2.0 s pose; the others are the poses seen at 0.9, 1.4 and 1.9 s
    gap = EgoHistory()
    for k in range(21):
        gap.past(EgoState(k * NS_PER_S // 10, x=0.5 * k, speed=5.0))
    late = gap.past(EgoState(29 * NS_PER_S // 10, x=20.0, speed=5.0))
    np.testing.assert_allclose(late[:, 0], [-15.5, -13.0, -10.5, -2.5], atol=1e-4)
    # ... also right after the first state: at 2.1 s with states at 0 and 2.0 s only, the
    # -1.5 s time (0.6 s) is after the first state and 0.6 s from it, a gap: extrapolated
    early = EgoHistory()
    early.past(EgoState(0, x=0.0, speed=5.0))
    early.past(EgoState(2 * NS_PER_S, x=10.0, speed=5.0))
    after = early.past(EgoState(21 * NS_PER_S // 10, x=10.5, speed=5.0))
    np.testing.assert_allclose(after[:, 0], [-10.5, -7.5, -5.0, -2.5], atol=1e-4)


def _default_manifest() -> dict:
    return json.loads((ROOT / "models" / "default" / "manifest.json").read_text())


def test_the_manifests_spec_drives_the_run_time_preprocessing():
    manifest = _default_manifest()
    vision = small_config().vision.from_dict(manifest["architecture"]["vla"]["vision"])
    images = torch.from_numpy(_frames(128)[:2].transpose(0, 1, 4, 2, 3).copy())[None]
    processor = VlaProcessor.from_manifest(manifest["preprocessing"], manifest["architecture"])
    base = processor.images(images)
    torch.testing.assert_close(base, normalise_images(images, vision), rtol=0, atol=0)
    changed = copy.deepcopy(manifest)
    changed["preprocessing"]["spec"]["mean"] = [0.25, 0.5, 0.75]
    changed["architecture"]["vla"]["vision"]["image_mean"] = [0.25, 0.5, 0.75]
    moved = VlaProcessor.from_manifest(changed["preprocessing"], changed["architecture"])
    out = moved.images(images)
    assert not torch.equal(out, base)
    shift = (base - out) * 0.25                            # std 0.25: (x - 0.5) vs (x - m)
    torch.testing.assert_close(shift[0, :, 0], torch.full_like(shift[0, :, 0], -0.25))
    torch.testing.assert_close(shift[0, :, 2], torch.full_like(shift[0, :, 2], 0.25))
    # without an architecture the spec alone decides
    alone = VlaProcessor.from_manifest(changed["preprocessing"], None)
    torch.testing.assert_close(alone.images(images), out, rtol=0, atol=0)


@pytest.mark.parametrize("key, value, named", [
    ("mean", [0.25, 0.5, 0.75], "mean"),
    ("std", [0.5, 0.5, 0.5], "std"),
    ("resize", [48, 48], "resize"),
    ("layout", "hwc", "layout"),
])
def test_a_spec_that_disagrees_with_the_architecture_is_refused(key, value, named):
    manifest = _default_manifest()
    manifest["preprocessing"]["spec"][key] = value
    with pytest.raises(ValueError, match=named):
        VlaProcessor.from_manifest(manifest["preprocessing"], manifest["architecture"])


def test_frames_and_cameras_that_disagree_with_the_architecture_are_refused():
    manifest = _default_manifest()
    for key, value in (("num_frames", 3), ("cameras", ["only_one"]), ("frame_interval_s", 0.2)):
        bad = copy.deepcopy(manifest)
        bad["preprocessing"][key] = value
        with pytest.raises(ValueError, match=f"disagrees with the architecture: {key}"):
            VlaProcessor.from_manifest(bad["preprocessing"], bad["architecture"])


def test_the_bundle_loader_refuses_a_disagreeing_spec(tmp_path):
    from vla_driving.bundle import Manifest
    from vla_driving.policy.base import PolicyUnavailableError
    from vla_driving.policy.bundle_loader import _load_processor

    data = _default_manifest()
    assert _load_processor(tmp_path, Manifest.from_dict(data)).num_frames == 2
    data["preprocessing"]["spec"]["std"] = [0.5, 0.5, 0.5]
    with pytest.raises(PolicyUnavailableError, match="disagrees with the architecture: std"):
        _load_processor(tmp_path, Manifest.from_dict(data))


def test_export_writes_what_the_run_time_reads():
    from vla_driving.export.pipeline import preprocessing_entry

    manifest = _default_manifest()
    cfg = small_config().from_dict(manifest["architecture"]["vla"])
    assert preprocessing_entry(cfg, list(CAMERAS)) == manifest["preprocessing"]


def _actions(**changes) -> ActionOutput:
    out = dict(waypoints=torch.tensor([[[2.0 * (k + 1), 0.0] for k in range(6)]]),
               controls=torch.tensor([[[4.0, 0.0, 0.1, 0.0], [4.1, 0.0, 0.1, 0.0]]]),
               speed_logits=torch.tensor([[0.0, 3.0, 0.0, 0.0, 0.0]]),
               steering_logits=torch.tensor([[0.0, 0.0, 3.0, 0.0, 0.0, 0.0]]),
               completed_logit=torch.tensor([-1.0]))
    return ActionOutput(**{**out, **changes})


def test_outputs_become_a_stamped_plan():
    processor = VlaProcessor.from_config(small_config(), list(CAMERAS))
    plan = processor.to_plan(7, _actions(), "b@1")
    assert plan.stamp_ns == 7 and plan.bundle_id == "b@1" and not plan.instruction_completed
    np.testing.assert_allclose(plan.waypoints[:, 0], [2, 4, 6, 8, 10, 12])
    assert plan.controls.speed == pytest.approx(4.0) and plan.next_controls.speed == \
        pytest.approx(4.1)
    assert 0.0 < plan.confidence <= 1.0


@pytest.mark.parametrize("changes, reason", [
    ({"waypoints": torch.full((1, 6, 2), float("nan"))}, "NaN"),
    ({"controls": torch.tensor([[[float("inf"), 0, 0, 0], [0, 0, 0, 0]]])}, "NaN"),
    ({"completed_logit": torch.tensor([float("nan")])}, "NaN"),
    ({"speed_logits": torch.tensor([[float("nan")] * 5])}, "NaN"),
    ({"waypoints": torch.zeros(1, 5, 2)}, "head shapes"),
    ({"controls": torch.zeros(1, 3, 4)}, "head shapes"),
    ({"waypoints": torch.full((1, 6, 2), 500.0)}, "m away"),
])
def test_malformed_outputs_fail_closed(changes, reason):
    processor = VlaProcessor.from_config(small_config(), list(CAMERAS))
    with pytest.raises(ModelOutputError, match=reason):
        processor.to_plan(0, _actions(**changes))
