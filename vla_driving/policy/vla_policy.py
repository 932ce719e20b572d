"""`VlaPolicy`: the bundle-backed DrivingPolicy (encoder engine + LLM + action-query head).

Thin: the bundle's processor (`vla_driving.model.processor.VlaProcessor`, configured by the
manifest) prepares the inputs and checks the outputs; the policy keeps the ego history and runs
the model between them. `infer` runs the one-pass action-query path (every planning cycle);
`infer_batch` runs it for several observations in one pass (open-loop replay);
`describe` runs greedy text decoding and parses it strictly (the text scheduler calls it on its
own, slower schedule); `answer` answers scene questions; `warm_up` runs the action pass and a
short text pass once on a dummy observation, leaving no trace (issue 21, item 1). Malformed
outputs raise `MalformedOutputError` (fails closed, never repaired); so does text that never ends
within the model's `max_new_tokens`. A prompt longer than the model's sequence leaves room for is cut, with
a warning, keeping its closing "Plan:" / "Answer:" (the instruction is already bounded at ingest).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from vla_driving.types import Observation, Plan

from vla_driving.policy.base import DrivingPolicy, MalformedOutputError, PolicyError, SceneText

_MOVED = ("COMPLETED_THRESHOLD", "MAX_WAYPOINT_M", "NUM_PAST", "EgoHistory")
WARM_UP_TOKENS = 2          # greedy steps of the warm-up's text pass: prefill + cached decode
WARM_UP_INSTRUCTION = "keep the current lane"
log = logging.getLogger(__name__)


def __getattr__(name: str):
    """Names that moved to the model's processor, still importable from here (lazily: torch)."""
    if name in _MOVED:
        from vla_driving.model import processor
        return getattr(processor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class VlaPolicy(DrivingPolicy):
    batches = True

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
        self._last_cut = None              # (prompt kind, text) last warned about
        bundle.model.frontend.register_forward_pre_hook(self._encoder_start)
        bundle.model.frontend.register_forward_hook(self._encoder_end)

    @classmethod
    def from_bundle(cls, path: str | Path, engine_cfg=None) -> "VlaPolicy":
        from vla_driving.policy.bundle_loader import load_bundle
        threads = engine_cfg.torch_threads if engine_cfg is not None else None
        return cls(load_bundle(path, engine_cfg), num_threads=threads)

    def _encoder_start(self, module, args) -> None:
        self._timing.start = time.perf_counter()

    def _encoder_end(self, module, args, output) -> None:
        self._timing.encoder_s = time.perf_counter() - self._timing.start

    def history_frames(self, stamps_ns: list[int]) -> list[int]:
        """The sets the model reads (the planner stacks only these; they are not picked again)."""
        return self.processor.pick_frames(stamps_ns)

    def _inputs(self, obs: Observation, record: bool = True, generate: int = 0):
        """Model inputs; the driving prompt (with the action queries after it) bounded to leave
        `generate` positions for the text."""
        from vla_driving.model.processor import ModelInputError
        from vla_driving.model.prompt import PLAN_SUFFIX

        try:
            x = self.processor.inputs(obs, self.history.past(obs.ego, record),
                                      self.bundle.tokenizer).to(self._device)
            x.prompts = [self._bounded(x.prompts[0], True, generate, PLAN_SUFFIX,
                                       obs.instruction)]
        except ModelInputError as exc:
            raise PolicyError(str(exc)) from exc
        return x

    def _bounded(self, ids: list[int], use_queries: bool, generate: int, suffix: str,
                 text: str) -> list[int]:
        """`ids` cut to the model's room for a prompt, with a warning once per text."""
        from vla_driving.model.processor import bound_prompt

        model, tok = self.bundle.model, self.bundle.tokenizer
        limit = model.cfg.llm.max_positions - model.fixed_tokens(use_queries) - generate
        if len(ids) <= limit:
            return ids
        if self._last_cut != (suffix, text):
            self._last_cut = (suffix, text)
            log.warning("prompt of %d tokens cut to %d (llm.max_positions=%d leaves no more "
                        "room): %.60r", len(ids), limit, model.cfg.llm.max_positions, text)
        return bound_prompt(ids, limit, tok.encode("\n" + suffix))

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

    def infer_batch(self, observations) -> list:
        """`infer` of each observation in one forward pass (open-loop replay); the ego history is
        recorded in order, as the loop would. Each item is the plan or its `PolicyError` (input or
        output rejected); an error of the pass itself raises for the whole batch. Prompts of
        different lengths are right-padded with an attention mask (`VLAModel.build_sequence`):
        causal attention keeps every real position off the padding after it, and positions count
        from 0 as for one sample. Latencies are the batch's ÷ its size (`*_per_frame_batched`):
        a throughput, not one plan's latency."""
        import torch

        from vla_driving.model.inference import action_pass
        from vla_driving.model.processor import ModelOutputError
        from vla_driving.model.vla import ActionOutput

        out: list = [None] * len(observations)
        batch = []
        start = time.perf_counter()
        for i, obs in enumerate(observations):
            try:
                batch.append((i, self._inputs(obs)))
            except PolicyError as exc:
                out[i] = exc
        if not batch:
            return out
        xs = [x for _, x in batch]
        actions = action_pass(self.bundle.model, torch.cat([x.images for x in xs]),
                              torch.cat([x.ego for x in xs]), torch.cat([x.past for x in xs]),
                              [x.prompts[0] for x in xs])
        per_frame = (time.perf_counter() - start) / len(batch)
        encoder_s = getattr(self._timing, "encoder_s", 0.0) / len(batch)
        for row, (i, _) in enumerate(batch):
            one = ActionOutput(*(t[row:row + 1] for t in (
                actions.waypoints, actions.controls, actions.speed_logits,
                actions.steering_logits, actions.completed_logit)))
            try:
                plan = self.processor.to_plan(observations[i].stamp_ns, one, self.bundle_id)
            except ModelOutputError as exc:
                out[i] = MalformedOutputError(str(exc))
                continue
            plan.latency_s.update({"encoder_per_frame_batched": encoder_s,
                                   "llm_head_per_frame_batched": per_frame - encoder_s})
            out[i] = plan
        return out

    def warm_up(self) -> float:
        """The action pass and a `WARM_UP_TOKENS`-token text pass on a black dummy observation of
        the bundle's cameras and input size, so the first plan pays no first-call setup
        (allocator, kernels' dequantized weights, lazy buffers). The ego history and the prompt
        warning are restored: no plan happened."""
        from vla_driving.model.inference import generate_one
        from vla_driving.model.processor import EgoHistory

        history, last_cut = self.history, self._last_cut
        self.history = EgoHistory()      # the dummy's own, dropped after
        start = time.perf_counter()
        try:
            obs = self._dummy_observation()
            try:
                self.infer(obs)
            except MalformedOutputError:  # the model ran; its output on a black dummy is no test
                pass
            x = self._inputs(obs, record=False, generate=WARM_UP_TOKENS)
            generate_one(self.bundle.model, self.bundle.tokenizer, x.images, x.ego, x.past,
                         x.prompts[0], True, WARM_UP_TOKENS)
        finally:
            self.history, self._last_cut = history, last_cut
        return time.perf_counter() - start

    def _dummy_observation(self) -> Observation:
        import numpy as np

        from vla_driving.constants import NS_PER_S
        from vla_driving.types import EgoState

        spec, size = self.processor.spec, self.processor.image_size or 1
        h, w = spec.resize or (size, size)
        if spec.crop is not None:        # the crop must fit in the source image
            h, w = spec.crop[0] + spec.crop[2], spec.crop[1] + spec.crop[3]
        frames = self.num_frames
        images = np.zeros((frames, len(self.cameras), h, w, 3), dtype=np.uint8)
        step = int((self.processor.frame_interval_s or 0.1) * NS_PER_S)
        stamps = tuple(i * step for i in range(frames))
        return Observation(stamps[-1], images, self.cameras, EgoState(stamps[-1]),
                           WARM_UP_INSTRUCTION, frame_stamps_ns=stamps)

    def describe(self, observation: Observation) -> SceneText:
        """Greedy text plan, parsed strictly (a ParseError, or text still going at
        `max_new_tokens`, becomes MalformedOutputError)."""
        from vla_driving.model.inference import generate_one
        from vla_driving.model.text_format import ParseError, parse_plan

        limit = self.bundle.model.cfg.max_new_tokens
        x = self._inputs(observation, record=False, generate=limit)
        out = generate_one(self.bundle.model, self.bundle.tokenizer, x.images, x.ego, x.past,
                           x.prompts[0], True, limit)
        if not out.ended:
            raise MalformedOutputError(f"text plan rejected: no end within max_new_tokens="
                                       f"{limit} tokens")
        try:
            parsed = parse_plan(out.text)
        except ParseError as exc:
            raise MalformedOutputError(f"text plan rejected: {exc.reason}") from exc
        return SceneText(observation.stamp_ns, parsed.description, parsed.justification,
                         meta_action=parsed.meta_action, waypoints=parsed.waypoints)

    def answer(self, observation: Observation, questions) -> list[str]:
        """Greedy answers to scene questions (the QA task's prompt, no action queries); an
        answer still going at `QA_MAX_NEW_TOKENS` is returned as '' (counted wrong)."""
        from vla_driving.model.inference import encode_prompts, generate_one
        from vla_driving.model.prompt import ANSWER_SUFFIX, QA_MAX_NEW_TOKENS, question_prompt

        x = self._inputs(observation, record=False)
        answers = []
        for question in questions:
            ids = encode_prompts(self.bundle.tokenizer, [question_prompt(question)])[0]
            ids = self._bounded(ids, False, QA_MAX_NEW_TOKENS, ANSWER_SUFFIX, question)
            out = generate_one(self.bundle.model, self.bundle.tokenizer, x.images, x.ego,
                               x.past, ids, False, QA_MAX_NEW_TOKENS)
            answers.append(" ".join(out.text.split()) if out.ended else "")
        return answers
