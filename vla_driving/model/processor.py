"""`VlaProcessor`: the VLA model's I/O, one place for training and run time (LeRobot's processor).

In: image sets -> the frames the model reads (`pick_frames`) -> normalised image tensors
(`images`, from the bundle manifest's `PreprocessSpec`); ego state + past positions + instruction
-> state tensors and prompt token ids (`inputs`). Out: the action head's tensors -> `Plan`
(`to_plan`), checked first: NaN/inf, wrong shapes or implausible waypoints raise
`ModelOutputError` (fails closed, never repaired; the policy turns it into its
`MalformedOutputError`). The processor is configured by the manifest's `preprocessing` entry
(`from_manifest`), which export writes with `to_manifest`, and refuses a spec that disagrees with
the architecture's `VisionConfig`.

Known differences between the training samples and the run time, kept as they are (the committed
bundle was trained on them; pinned by test/model/test_processor.py):
- Past positions. Training labels (`vla_driving.data.labels.labels_at`) interpolate the recorded
  odometry at -2.0, -1.5, -1.0, -0.5 s and clamp to the episode's first pose; the run time
  (`EgoHistory`) takes the ego state seen nearest to each time (within 0.25 s) and, when there is
  none (the first 2 s of a run, an odometry gap), extrapolates at the current speed.
- Image resize. The training dataset stores frames already at the model size (`stored_frame`:
  uint8, Pillow bilinear) so `images` has nothing to resize; the run time hands camera-size frames
  to `images`, which resizes in float (torch, antialiased bilinear). Frames at the model size give
  identical tensors; larger ones differ by up to a grey level (the stored uint8 rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import torch

from vla_driving.constants import NS_PER_S, NUM_WAYPOINTS, PAST_HORIZON_S, WAYPOINT_DT_S
from vla_driving.meta_action import MetaAction
from vla_driving.model.config import NUM_CONTROL_FIELDS, NUM_CONTROL_STEPS, VisionConfig, VLAConfig
from vla_driving.model.frames import FramePicker
from vla_driving.model.preprocess_spec import PreprocessSpec
from vla_driving.model.prompt import driving_prompt
from vla_driving.model.vision import normalise_uint8
from vla_driving.types import ControlSignals, EgoState, Observation, Plan

if TYPE_CHECKING:
    from vla_driving.model.vla import ActionOutput

MAX_WAYPOINT_M = 200.0          # beyond 3 s at any legal speed: the output is garbage
COMPLETED_THRESHOLD = 0.0       # logit > 0  <=>  probability > 0.5
NUM_PAST = int(round(PAST_HORIZON_S / WAYPOINT_DT_S))
LAYOUT = "[B, T*N, 3, S, S], frame-major, oldest first"


class ModelInputError(ValueError):
    """The observation does not fit the model (cameras, image layout)."""


class ModelOutputError(ValueError):
    """The model's output failed validation; it must never become a motion command."""


@dataclass
class ModelInputs:
    images: torch.Tensor          # float32 [B, T*N, 3, S, S], normalised
    ego: torch.Tensor             # float32 [B, 3]: speed, yaw rate, acceleration
    past: torch.Tensor            # float32 [B, 4, 2]: ego-frame positions at -2.0 ... -0.5 s
    prompts: list[list[int]]      # token ids of the driving prompt, <bos> first

    def to(self, device) -> "ModelInputs":
        """The tensors on the model's device (prepared on the host, as the camera data is)."""
        return ModelInputs(self.images.to(device), self.ego.to(device), self.past.to(device),
                           self.prompts)


def prompt_ids(tokenizer, ego, past, instructions) -> list[list[int]]:
    """Driving-prompt token ids per sample (ego [B, 3], past [B, 4, 2] tensors or arrays)."""
    texts = [driving_prompt(e, p, s) for e, p, s in zip(ego.tolist(), past.tolist(),
                                                         instructions)]
    return [[tokenizer.bos_id] + tokenizer.encode(t) for t in texts]


def bound_prompt(ids: list[int], limit: int, suffix: list[int]) -> list[int]:
    """`ids` cut to at most `limit` tokens; a prompt that ends in `suffix` (its closing
    "Plan:" / "Answer:") keeps it after the cut, so the model still sees where to answer."""
    if len(ids) <= limit:
        return list(ids)
    keep = list(suffix) if suffix and list(ids[-len(suffix):]) == list(suffix) else []
    if limit <= len(keep):
        raise ModelInputError(f"no room for a prompt: {limit} tokens allowed")
    return list(ids[:limit - len(keep)]) + keep


def stored_frame(image: np.ndarray, size: int) -> np.ndarray:
    """A decoded H x W x 3 uint8 frame as a training sample stores it: 3 x size x size uint8
    (Pillow bilinear when the size differs; see the module docstring)."""
    if image.shape[0] != size or image.shape[1] != size:
        from PIL import Image

        image = np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))
    return image.transpose(2, 0, 1)


class EgoHistory:
    """Past ego positions (-2.0 ... -0.5 s) in the current ego frame, from the states seen.

    Before the first state seen, the first pose, as the training labels clamp to an episode's
    first pose (`data.labels.labels_at`): extrapolating at the current speed there fed the first
    2 s of every run pasts the model had never seen with such images, and it steered off the
    roundabout's entry road in all validation routes. A gap mid-run is extrapolated."""

    def __init__(self) -> None:
        self._states: list[EgoState] = []

    def past(self, ego: EgoState, record: bool = True) -> np.ndarray:
        states = [s for s in self._states if 0 < ego.stamp_ns - s.stamp_ns <= 3 * NS_PER_S]
        states.append(ego)
        if record:
            self._states = states
        out = np.zeros((NUM_PAST, 2), dtype=np.float32)
        c, s = np.cos(ego.yaw), np.sin(ego.yaw)
        first = min(states, key=lambda e: e.stamp_ns)
        for i in range(NUM_PAST):
            t_ns = ego.stamp_ns - int((NUM_PAST - i) * WAYPOINT_DT_S * NS_PER_S)
            if t_ns <= first.stamp_ns:
                older = first                           # before the run: its first pose
            else:
                older = min(states, key=lambda e: abs(e.stamp_ns - t_ns))
                if abs(older.stamp_ns - t_ns) > WAYPOINT_DT_S * NS_PER_S / 2:   # a gap
                    out[i] = (-(ego.speed * (ego.stamp_ns - t_ns) / NS_PER_S), 0.0)
                    continue
            dx, dy = older.x - ego.x, older.y - ego.y
            out[i] = (c * dx + s * dy, -s * dx + c * dy)
        return out


def _vision(architecture) -> VisionConfig | None:
    if architecture is None or isinstance(architecture, VisionConfig):
        return architecture
    if isinstance(architecture, VLAConfig):
        return architecture.vision
    return VLAConfig.from_dict(architecture["vla"]).vision   # the manifest's architecture dict


def _disagreements(spec: PreprocessSpec, cameras, frames: int, interval_s, vision: VisionConfig
                   ) -> list[str]:
    size = vision.image_size
    checks = [("resize", spec.resize, (size, size), spec.resize in (None, (size, size))),
              ("mean", spec.mean, tuple(vision.image_mean),
               np.allclose(spec.mean, vision.image_mean, rtol=0, atol=1e-9)),
              ("std", spec.std, tuple(vision.image_std),
               np.allclose(spec.std, vision.image_std, rtol=0, atol=1e-9)),
              ("num_frames", frames, vision.num_frames, frames == vision.num_frames),
              ("cameras", len(cameras), vision.num_views,
               not cameras or len(cameras) == vision.num_views),
              ("frame_interval_s", interval_s, vision.frame_interval_s,
               interval_s is None or abs(interval_s - vision.frame_interval_s) < 1e-9)]
    return [f"{name} {got} (architecture: {want})" for name, got, want, ok in checks if not ok]


class VlaProcessor:
    """Observation -> model tensors -> Plan for one bundle (or checkpoint config)."""

    def __init__(self, spec: PreprocessSpec, cameras: tuple[str, ...] | list[str],
                 num_frames: int, frame_interval_s: float | None,
                 vision: VisionConfig | None = None) -> None:
        if spec.layout != "chw":
            raise ValueError(f"preprocessing layout {spec.layout!r}: the model reads 'chw'")
        if vision is not None:
            bad = _disagreements(spec, cameras, num_frames, frame_interval_s, vision)
            if bad:
                raise ValueError("the manifest's preprocessing disagrees with the architecture: "
                                 + "; ".join(bad))
        self.spec, self.cameras = spec, tuple(cameras)
        self.num_frames, self.frame_interval_s = int(num_frames), frame_interval_s
        self.num_views = vision.num_views if vision is not None else len(self.cameras)
        self.image_size = vision.image_size if vision is not None else None
        self.picker = FramePicker(self.num_frames, frame_interval_s)

    @classmethod
    def from_manifest(cls, preprocessing: Mapping[str, Any], architecture=None) -> "VlaProcessor":
        """From the manifest's `preprocessing` entry; `architecture` (the manifest's dict, a
        `VLAConfig` or a `VisionConfig`) is checked against it. Entries without a `spec` (older
        bundles) take it from the architecture; without `frame_interval_s`, the last T sets."""
        vision = _vision(architecture)
        if "spec" in preprocessing:
            spec = PreprocessSpec.from_dict(preprocessing["spec"])
        elif vision is not None:
            spec = _spec_of(vision)
        else:
            raise ValueError("preprocessing has no 'spec' and no architecture to take it from")
        return cls(spec, tuple(preprocessing.get("cameras", ())),
                   int(preprocessing.get("num_frames", 1)),
                   preprocessing.get("frame_interval_s"), vision)

    @classmethod
    def from_config(cls, cfg: VLAConfig, cameras: list[str]) -> "VlaProcessor":
        v = cfg.vision
        return cls(_spec_of(v), cameras, v.num_frames, v.frame_interval_s, v)

    def to_manifest(self) -> dict:
        """The manifest's `preprocessing` entry (what `from_manifest` reads)."""
        return {"spec": self.spec.to_dict(), "cameras": list(self.cameras),
                "num_frames": self.num_frames, "frame_interval_s": self.frame_interval_s,
                "layout": LAYOUT}

    # -- in ---------------------------------------------------------------------------------
    def pick_frames(self, stamps_ns, available: int | None = None,
                    check_span: bool = True) -> list[int]:
        """Indices (oldest first) of the sets the model reads out of a history with these stamps:
        `frame_interval_s` apart, the newest last; without stamps, the last `num_frames` sets."""
        available = len(stamps_ns) if available is None else available
        return self.picker(stamps_ns, available, check_span)

    def observation_images(self, obs: Observation) -> torch.Tensor:
        """uint8 [1, T, N, 3, H, W] of the observation's picked sets.

        A planner observation holds exactly the T sets it picked (`pick_frames`) and is kept as it
        is; any other number of sets (a direct caller's history) is picked here."""
        if tuple(obs.cameras) != self.cameras:
            raise ModelInputError(f"cameras {list(obs.cameras)} do not match the bundle's "
                                  f"{list(self.cameras)}")
        images = np.asarray(obs.images)
        if images.ndim != 5 or images.shape[-1] != 3 or images.shape[0] == 0:
            raise ModelInputError(f"images must be T x N x H x W x 3, got {images.shape}")
        if images.shape[0] != self.num_frames:
            # early in a run the oldest set repeats, as a training sample repeats an episode's start
            images = images[self.pick_frames(obs.frame_stamps_ns, images.shape[0], False)]
        return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 1, 4, 2, 3)))[None]

    def images(self, images_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 [B, T, N, 3, H, W] -> float32 [B, T*N, 3, S, S], as the manifest's spec says."""
        s = self.spec
        out = normalise_uint8(images_uint8, self.num_frames, self.num_views, s.resize, s.mean,
                              s.std, s.crop, s.resample, s.channel_order == "bgr")
        if self.image_size is not None and out.shape[-2:] != (self.image_size, self.image_size):
            raise ModelInputError(f"images of {tuple(out.shape[-2:])} after preprocessing; the "
                                  f"model reads {self.image_size} x {self.image_size}")
        return out

    def inputs(self, obs: Observation, past: np.ndarray, tokenizer) -> ModelInputs:
        """One observation as a batch of one; `past` from `EgoHistory.past`."""
        images = self.images(self.observation_images(obs))
        e = obs.ego
        ego = torch.tensor([[e.speed, e.yaw_rate, e.acceleration]], dtype=torch.float32)
        past_t = torch.from_numpy(np.asarray(past, dtype=np.float32))[None]
        return ModelInputs(images, ego, past_t, prompt_ids(tokenizer, ego, past_t,
                                                           [obs.instruction]))

    # -- out --------------------------------------------------------------------------------
    def to_plan(self, stamp_ns: int, out: "ActionOutput", bundle_id: str = "") -> Plan:
        """The first sample's head outputs as a Plan; raises `ModelOutputError` when malformed."""
        return actions_to_plan(stamp_ns, out, bundle_id)


def actions_to_plan(stamp_ns: int, out: "ActionOutput", bundle_id: str = "") -> Plan:
    wp = out.waypoints[0].detach().cpu().double().numpy()
    ctl = out.controls[0].detach().cpu().double().numpy()
    speed_p = torch.softmax(out.speed_logits[0].detach().cpu().float(), -1)
    steer_p = torch.softmax(out.steering_logits[0].detach().cpu().float(), -1)
    if wp.shape != (NUM_WAYPOINTS, 2) or ctl.shape != (NUM_CONTROL_STEPS, NUM_CONTROL_FIELDS):
        raise ModelOutputError(f"head shapes {wp.shape} / {ctl.shape}")
    values = np.concatenate([wp.ravel(), ctl.ravel(), speed_p.numpy(), steer_p.numpy()])
    if not np.all(np.isfinite(values)) or not np.isfinite(float(out.completed_logit[0])):
        raise ModelOutputError("model output contains NaN or inf")
    if np.abs(wp).max() > MAX_WAYPOINT_M:
        raise ModelOutputError(f"waypoint {np.abs(wp).max():.1f} m away (> {MAX_WAYPOINT_M} m)")
    meta = MetaAction.from_indices(int(speed_p.argmax()), int(steer_p.argmax()))
    return Plan(stamp_ns=stamp_ns, waypoints=wp, controls=ControlSignals.from_array(ctl[0]),
                next_controls=ControlSignals.from_array(ctl[1]), meta_action=meta,
                instruction_completed=float(out.completed_logit[0]) > COMPLETED_THRESHOLD,
                confidence=float(min(speed_p.max(), steer_p.max())),
                bundle_id=bundle_id, latency_s={})


def _spec_of(vision: VisionConfig) -> PreprocessSpec:
    return PreprocessSpec(resize=(vision.image_size, vision.image_size),
                          mean=tuple(vision.image_mean), std=tuple(vision.image_std))
