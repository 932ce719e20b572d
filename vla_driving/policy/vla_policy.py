"""`VlaPolicy`: the bundle-backed DrivingPolicy (encoder engine + LLM + action-query head).

Thin: the bundle's processor (`vla_driving.model.processor.VlaProcessor`, configured by the
manifest) prepares the inputs and checks the outputs; the policy keeps the ego history and runs
the model between them. `infer` runs the one-pass action-query path (every planning cycle);
`describe` runs greedy text decoding and parses it strictly (the text scheduler calls it on its
own, slower schedule). Malformed outputs raise `MalformedOutputError` (fails closed, never
repaired).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from vla_driving.types import Observation, Plan

from vla_driving.policy.base import DrivingPolicy, MalformedOutputError, PolicyError, SceneText

_MOVED = ("COMPLETED_THRESHOLD", "MAX_WAYPOINT_M", "NUM_PAST", "EgoHistory")


def __getattr__(name: str):
    """Names that moved to the model's processor, still importable from here (lazily: torch)."""
    if name in _MOVED:
        from vla_driving.model import processor
        return getattr(processor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class VlaPolicy(DrivingPolicy):
    def __init__(self, bundle, num_threads: int | None = None) -> None:
        import torch

        from vla_driving.model.processor import EgoHistory, VlaProcessor

        if num_threads:
            torch.set_num_threads(num_threads)
        self.bundle = bundle
        self.bundle_id = bundle.manifest.bundle_id   # covers the manifest, hence every file
        self.processor = getattr(bundle, "processor", None) or VlaProcessor.from_manifest(
            bundle.manifest.preprocessing, bundle.manifest.architecture)
        self.cameras = self.processor.cameras
        self.num_frames = self.processor.num_frames
        self.pick_frames = self.processor.picker
        self.history = EgoHistory()
        self._device = next(bundle.model.parameters()).device  # inputs go where the model is
        self._timing = threading.local()   # infer and describe run in different threads
        bundle.model.frontend.register_forward_pre_hook(self._encoder_start)
        bundle.model.frontend.register_forward_hook(self._encoder_end)

    @classmethod
    def from_bundle(cls, path: str | Path, engine_cfg=None) -> "VlaPolicy":
        from vla_driving.policy.bundle_loader import load_bundle
        return cls(load_bundle(path, engine_cfg))

    def _encoder_start(self, module, args) -> None:
        self._timing.start = time.perf_counter()

    def _encoder_end(self, module, args, output) -> None:
        self._timing.encoder_s = time.perf_counter() - self._timing.start

    def history_frames(self, stamps_ns: list[int]) -> list[int]:
        """The sets the model reads (the planner stacks only these; they are not picked again)."""
        return self.processor.pick_frames(stamps_ns)

    def _inputs(self, obs: Observation, record: bool = True):
        from vla_driving.model.processor import ModelInputError

        try:
            return self.processor.inputs(obs, self.history.past(obs.ego, record),
                                         self.bundle.tokenizer).to(self._device)
        except ModelInputError as exc:
            raise PolicyError(str(exc)) from exc

    def infer(self, observation: Observation) -> Plan:
        from vla_driving.model.inference import action_pass
        from vla_driving.model.processor import ModelOutputError

        start = time.perf_counter()
        x = self._inputs(observation)
        out = action_pass(self.bundle.model, x.images, x.ego, x.past, x.prompts)
        total = time.perf_counter() - start
        try:
            plan = self.processor.to_plan(observation.stamp_ns, out, self.bundle_id)
        except ModelOutputError as exc:
            raise MalformedOutputError(str(exc)) from exc
        encoder_s = getattr(self._timing, "encoder_s", 0.0)
        plan.latency_s.update({"encoder": encoder_s, "llm_head": total - encoder_s})
        return plan

    def describe(self, observation: Observation) -> SceneText:
        """Greedy text plan, parsed strictly (a ParseError becomes MalformedOutputError)."""
        from vla_driving.model.inference import generate_texts
        from vla_driving.model.text_format import ParseError, parse_plan

        x = self._inputs(observation, record=False)
        text = generate_texts(self.bundle.model, self.bundle.tokenizer, x.images, x.ego, x.past,
                              x.prompts, True)[0]
        try:
            parsed = parse_plan(text)
        except ParseError as exc:
            raise MalformedOutputError(f"text plan rejected: {exc.reason}") from exc
        return SceneText(observation.stamp_ns, parsed.description, parsed.justification)
