"""`VlaPolicy`: the bundle-backed DrivingPolicy (encoder engine + LLM + action-query head).

`infer` runs the one-pass action-query path (every planning cycle); `describe` runs greedy text
decoding and parses it strictly (the text scheduler calls it on its own, slower schedule).
Outputs are checked before they become a Plan: non-finite or implausible values raise
`MalformedOutputError` (fails closed, never repaired).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from vla_driving.constants import NS_PER_S, NUM_WAYPOINTS, PAST_HORIZON_S, WAYPOINT_DT_S
from vla_driving.meta_action import MetaAction
from vla_driving.types import ControlSignals, EgoState, Observation, Plan

from vla_driving.policy.base import DrivingPolicy, MalformedOutputError, PolicyError, SceneText
from vla_driving.policy.frame_history import FramePicker

MAX_WAYPOINT_M = 200.0          # beyond 3 s at any legal speed: the output is garbage
COMPLETED_THRESHOLD = 0.0       # logit > 0  <=>  probability > 0.5
NUM_PAST = int(round(PAST_HORIZON_S / WAYPOINT_DT_S))


class EgoHistory:
    """Past ego positions (-2.0 ... -0.5 s) in the current ego frame, from the states seen."""

    def __init__(self) -> None:
        self._states: list[EgoState] = []

    def past(self, ego: EgoState, record: bool = True) -> np.ndarray:
        states = [s for s in self._states if 0 < ego.stamp_ns - s.stamp_ns <= 3 * NS_PER_S]
        states.append(ego)
        if record:
            self._states = states
        out = np.zeros((NUM_PAST, 2), dtype=np.float32)
        c, s = np.cos(ego.yaw), np.sin(ego.yaw)
        for i in range(NUM_PAST):
            t_ns = ego.stamp_ns - int((NUM_PAST - i) * WAYPOINT_DT_S * NS_PER_S)
            older = min(states, key=lambda e: abs(e.stamp_ns - t_ns))
            if abs(older.stamp_ns - t_ns) > WAYPOINT_DT_S * NS_PER_S / 2:
                out[i] = (-(ego.speed * (ego.stamp_ns - t_ns) / NS_PER_S), 0.0)  # constant velocity
                continue
            dx, dy = older.x - ego.x, older.y - ego.y
            out[i] = (c * dx + s * dy, -s * dx + c * dy)
        return out


class VlaPolicy(DrivingPolicy):
    def __init__(self, bundle, num_threads: int | None = None) -> None:
        import torch

        if num_threads:
            torch.set_num_threads(num_threads)
        self._torch = torch
        self.bundle = bundle
        self.bundle_id = f"{bundle.manifest.name}@{bundle.manifest.files[bundle.manifest.weights['file']].sha256[:12]}"
        pre = bundle.manifest.preprocessing
        self.cameras = tuple(pre.get("cameras", ()))
        self.num_frames = int(pre.get("num_frames", 1))
        # bundles from before `frame_interval_s` was recorded: the last T sets, as they were fed
        self.pick_frames = FramePicker(self.num_frames, pre.get("frame_interval_s"))
        self.history = EgoHistory()
        self._encoder_s = 0.0
        bundle.model.frontend.register_forward_pre_hook(self._encoder_start)
        bundle.model.frontend.register_forward_hook(self._encoder_end)

    @classmethod
    def from_bundle(cls, path: str | Path, engine_cfg=None) -> "VlaPolicy":
        from vla_driving.policy.bundle_loader import load_bundle
        return cls(load_bundle(path, engine_cfg))

    def _encoder_start(self, module, args) -> None:
        self._t_encoder = time.perf_counter()

    def _encoder_end(self, module, args, output) -> None:
        self._encoder_s = time.perf_counter() - self._t_encoder

    def history_frames(self, stamps_ns: list[int]) -> list[int]:
        return self.pick_frames(stamps_ns, len(stamps_ns))

    def _inputs(self, obs: Observation, record: bool = True):
        if tuple(obs.cameras) != self.cameras:
            raise PolicyError(f"cameras {list(obs.cameras)} do not match the bundle's "
                              f"{list(self.cameras)}")
        images = np.asarray(obs.images)
        if images.ndim != 5 or images.shape[-1] != 3 or images.shape[0] == 0:
            raise PolicyError(f"images must be T x N x H x W x 3, got {images.shape}")
        # early in a run the oldest set repeats, as a training sample repeats an episode's start;
        # on sets the planner already picked (`history_frames`) this keeps them as they are
        images = images[self.pick_frames(obs.frame_stamps_ns, images.shape[0], check_span=False)]
        torch = self._torch
        x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 1, 4, 2, 3)))[None]
        e = obs.ego
        ego = torch.tensor([[e.speed, e.yaw_rate, e.acceleration]], dtype=torch.float32)
        past = torch.from_numpy(self.history.past(e, record))[None]
        return x, ego, past

    def infer(self, observation: Observation) -> Plan:
        from vla_driving.model.inference import plan_actions

        start = time.perf_counter()
        x, ego, past = self._inputs(observation)
        out = plan_actions(self.bundle.model, self.bundle.tokenizer, x, ego, past,
                           [observation.instruction])
        total = time.perf_counter() - start
        plan = self._to_plan(observation.stamp_ns, out)
        plan.latency_s.update({"encoder": self._encoder_s, "llm_head": total - self._encoder_s})
        return plan

    def _to_plan(self, stamp_ns: int, out) -> Plan:
        wp = out.waypoints[0].detach().cpu().double().numpy()
        ctl = out.controls[0].detach().cpu().double().numpy()
        speed_p = self._torch.softmax(out.speed_logits[0].float(), -1)
        steer_p = self._torch.softmax(out.steering_logits[0].float(), -1)
        values = np.concatenate([wp.ravel(), ctl.ravel(), speed_p.numpy(), steer_p.numpy()])
        if wp.shape != (NUM_WAYPOINTS, 2) or ctl.shape != (2, 4):
            raise MalformedOutputError(f"head shapes {wp.shape} / {ctl.shape}")
        if not np.all(np.isfinite(values)) or not np.isfinite(float(out.completed_logit[0])):
            raise MalformedOutputError("model output contains NaN or inf")
        if np.abs(wp).max() > MAX_WAYPOINT_M:
            raise MalformedOutputError(f"waypoint {np.abs(wp).max():.1f} m away (> {MAX_WAYPOINT_M} m)")
        meta = MetaAction.from_indices(int(speed_p.argmax()), int(steer_p.argmax()))
        return Plan(stamp_ns=stamp_ns, waypoints=wp, controls=ControlSignals.from_array(ctl[0]),
                    next_controls=ControlSignals.from_array(ctl[1]), meta_action=meta,
                    instruction_completed=float(out.completed_logit[0]) > COMPLETED_THRESHOLD,
                    confidence=float(min(speed_p.max(), steer_p.max())),
                    bundle_id=self.bundle_id, latency_s={})

    def describe(self, observation: Observation) -> SceneText:
        """Greedy text plan, parsed strictly (a ParseError becomes MalformedOutputError)."""
        from vla_driving.model.inference import generate_plan_texts
        from vla_driving.model.text_format import ParseError, parse_plan

        x, ego, past = self._inputs(observation, record=False)
        text = generate_plan_texts(self.bundle.model, self.bundle.tokenizer, x, ego, past,
                                   [observation.instruction])[0]
        try:
            parsed = parse_plan(text)
        except ParseError as exc:
            raise MalformedOutputError(f"text plan rejected: {exc.reason}") from exc
        return SceneText(observation.stamp_ns, parsed.description, parsed.justification)
