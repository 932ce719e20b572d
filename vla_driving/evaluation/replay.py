"""Open-loop replay of a recorded bag through the planner's own ingest and planning cycle.

ROS-free and deterministic: the bag's messages are fed in stamp order to the same `Ingest` and
`PlannerCore` the planner node runs, with the ROS clock set to each message's stamp (no wall
clock decides anything). A planning cycle runs for every synchronised camera set, after every
message up to that set's stamp has been fed, so the ego state is the one of that instant.
Corruptions are applied to the decoded camera frames before they reach the ingest, once per
frame: a `ReplayInputs` keeps the fed frames and the labels of one bag under one condition for
every policy replayed on it. Open loop, a policy's inputs never depend on its plans, so a policy
that batches (the model) plans `ReplayConfig.batch` cycles in one pass (`infer_batch`), each
cycle then finished exactly as the sequential one (statuses, scene text, inputs kept).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from vla_driving.configuration import Config, param
from vla_driving.constants import NS_PER_S
from vla_driving.data.bag_data import BagData
from vla_driving.data.images import decode_image
from vla_driving.data.label_config import LabelConfig
from vla_driving.data.references import references_at
from vla_driving.engines.config import LLM_KERNELS
from vla_driving.policy.base import DrivingPolicy, MalformedOutputError, PolicyError
from vla_driving.policy.planner import Begun, CycleResult, PlannerCore
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.policy.text_stats import ACCEPTED, FAILED, REJECTED
from vla_driving.sensors.config import IngestConfig
from vla_driving.sensors.decode import CompressedImage, RawImage
from vla_driving.sensors.ingest import Ingest
from vla_driving.sensors.odometry import OdometryFields
from vla_driving.evaluation.bag_labels import labelled_sample
from vla_driving.evaluation.corruptions import CORRUPTIONS, SEVERITIES, apply_to_frame
from vla_driving.evaluation.summary import EvalSample

LOG = logging.getLogger(__name__)
BATCHED_INFER = "infer_per_frame_batched"   # the latency stage of batched plans (a throughput)
# Events at one stamp are fed in this order: the ego state and the command before the images.
ORDER_ODOMETRY, ORDER_INSTRUCTION, ORDER_IMAGE = 0, 1, 2


@dataclass
class ReplayConfig(Config):
    """How a bag is replayed for open-loop evaluation."""

    cameras: list[str] = param(["bev_near", "bev_far"], "cameras fed to the policy, in order",
                               min_len=1)
    history: int = param(16, "synchronised sets kept per observation (the policy picks its "
                         "frames from them by stamp)", low=1, high=64)
    max_frames: int = param(0, "planning cycles per bag and policy (0: all)", low=0)
    mcap_frames: int = param(100, "cycles written to the report's MCAP (0: none)", low=0)
    text_every: int = param(0, "ask the policy for scene text (and, where the bag has "
                            "reference QA, the frame's questions) every N cycles (0: never)",
                            low=0)
    seed: int = param(0, "seed of the corruptions", low=0)
    batch: int = param(32, "planning cycles a batching policy (the model) infers together: open "
                       "loop, its inputs never depend on its plans; latencies are then the "
                       "batch's per frame (a throughput); 1: one at a time, each plan's latency",
                       low=1, high=4096)
    torch_threads: int = param(1, "CPU threads of the model: torch's, and ONNX Runtime's for "
                               "the encoder (0: one per core); one was faster on this 2-core "
                               "machine (docs/evaluation.md)", low=0, high=256)
    llm_kernel: str = param("default", "GPTQ INT4 kernel of the model's LLM "
                            "(EngineConfig.llm_kernel): compare kernels on the same bags",
                            choices=LLM_KERNELS)

    def planner_config(self) -> PlannerConfig:
        ingest = IngestConfig(cameras=list(self.cameras), history=self.history,
                              transport="compressed", max_frame_age_s=60.0)
        return PlannerConfig(policy="constant_velocity", ingest=ingest, autostart=False)


@dataclass(frozen=True)
class Corruption:
    name: str
    severity: int

    def __post_init__(self) -> None:
        if self.name not in CORRUPTIONS:
            raise ValueError(f"unknown corruption {self.name!r}; known: {', '.join(CORRUPTIONS)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity}")

    @property
    def label(self) -> str:
        return f"{self.name}@{self.severity}"


@dataclass
class ReplayRun:
    """One policy over one bag: a sample per planning cycle, and the inputs it saw."""

    samples: list[EvalSample] = field(default_factory=list)
    inputs: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    ingest_stats: dict = field(default_factory=dict)


def bag_events(bag: BagData) -> list[tuple[int, int, str, object]]:
    """(stamp, order, kind, payload) of every odometry, instruction and image, in feed order."""
    events: list[tuple[int, int, str, object]] = []
    track = bag.odometry
    if track is not None:
        yaw_rate = bag.yaw_rate if bag.yaw_rate is not None else np.zeros(len(track.t_ns))
        for i, stamp in enumerate(track.t_ns):
            events.append((int(stamp), ORDER_ODOMETRY, "odometry", OdometryFields.planar(
                stamp, track.x[i], track.y[i], float(track.yaw[i]), track.speed[i],
                yaw_rate[i])))
    events += [(int(s), ORDER_INSTRUCTION, "instruction", text) for s, text in bag.instructions]
    for camera, frames in bag.images.items():
        events += [(int(s), ORDER_IMAGE, camera, (fmt, data)) for s, fmt, data in frames]
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return events


def _image_fields(camera: str, stamp: int, fmt: str, data: bytes,
                  corruption: Corruption | None, seed: int):
    """The message fields the ingest decodes; a corrupted frame goes in as raw rgb8 so that no
    second compression hides or adds to the corruption."""
    if corruption is None and not fmt.startswith("raw:"):
        return CompressedImage(fmt, data)
    image = decode_image(fmt, data)
    if corruption is not None:
        image = apply_to_frame(corruption.name, image, corruption.severity, seed, camera, stamp)
    return RawImage.rgb8(image)


# (bag, stamp) -> (reference description, reference justification); see replay_policy.
References = Callable[[BagData, int], tuple[str, str]]


def bag_references(bag: BagData, stamp: int) -> tuple[str, str, tuple] | None:
    """The frame's reference description, justification and QA rounds from the bag's
    `/sim/reference/...` topics; None where the bag has none for the frame (car bags)."""
    ref = references_at(bag.references, stamp)
    return None if ref is None else (ref.description, ref.justification, ref.qa)


class ReplayInputs:
    """What every policy's replay of one bag under one condition shares, computed once: the
    ingest's fields of each camera frame (decoded and corrupted on first use) and the labels of
    each stamp (`labels` may be shared by the conditions of the bag: they do not depend on it)."""

    def __init__(self, bag: BagData, corruption: Corruption | None = None, seed: int = 0,
                 labels: dict | None = None):
        self.bag, self.corruption, self.seed = bag, corruption, seed
        self.events = bag_events(bag)
        self.labels = {} if labels is None else labels
        self._fields: dict[tuple[str, int], object] = {}

    def fields(self, camera: str, stamp: int, fmt: str, data: bytes):
        key = (camera, stamp)
        if key not in self._fields:
            self._fields[key] = _image_fields(camera, stamp, fmt, data, self.corruption,
                                              self.seed)
        return self._fields[key]

    def sample(self, stamp: int, label_cfg: LabelConfig, episode: str) -> EvalSample:
        """A fresh EvalSample with the frame's labels (the label arrays are shared)."""
        key = (stamp, repr(label_cfg), episode)   # LabelConfig is mutable, hence unhashable
        if key not in self.labels:
            self.labels[key] = labelled_sample(self.bag, stamp, label_cfg, episode)
        return dataclasses.replace(self.labels[key])


class _Replayer:
    def __init__(self, bag, policy, cfg: ReplayConfig, corruption, label_cfg, episode,
                 references: References | None = None, inputs: ReplayInputs | None = None):
        self.bag, self.cfg, self.corruption = bag, cfg, corruption
        self.inputs = inputs or ReplayInputs(bag, corruption, cfg.seed)
        self.label_cfg, self.episode, self.references = label_cfg, episode, references
        planner_cfg = cfg.planner_config()
        self.pending: list[int] = []
        self.ingest = Ingest(planner_cfg.ingest, on_set=lambda s: self.pending.append(s.stamp_ns))
        self.core = PlannerCore(planner_cfg, policy, self.ingest)
        self.policy = policy
        self.run = ReplayRun()
        self.batch = cfg.batch if policy.batches else 1
        self.queue: list[tuple[int, Begun | CycleResult, dict | None]] = []

    def done(self) -> bool:
        return 0 < self.cfg.max_frames <= len(self.run.samples) + len(self.queue)

    def feed(self, stamp: int, kind: str, payload) -> None:
        if kind == "odometry":
            self.ingest.on_odometry(payload, stamp)
        elif kind == "instruction":
            self.ingest.on_instruction(payload, stamp)
        else:
            fields = self.inputs.fields(kind, stamp, *payload)
            self.ingest.on_image(kind, fields, stamp, stamp)

    def cycle(self, stamp: int) -> None:
        """One planning cycle; with batching, its observation waits in the queue for the batch
        (cut early at a frame due for text, whose ego history must be the sequential one)."""
        if self.batch <= 1:
            self._record(stamp, self.core.cycle(stamp), None, self._latest_frames())
            return
        self.queue.append((stamp, self.core.begin(stamp), self._latest_frames()))
        every, index = self.cfg.text_every, len(self.run.samples) + len(self.queue) - 1
        if len(self.queue) >= self.batch or (every > 0 and index % every == 0):
            self.flush()

    def flush(self) -> None:
        """Infer the queued observations together, then finish each cycle in order."""
        begun = [b for _, b, _ in self.queue if isinstance(b, Begun)]
        start = time.perf_counter()
        try:
            outcomes = self.policy.infer_batch([b.obs for b in begun]) if begun else []
        except Exception as exc:  # noqa: BLE001 - the pass failed: every frame of it fails closed
            outcomes = [exc] * len(begun)
        per_frame = (time.perf_counter() - start) / max(len(begun), 1)
        outcome = iter(outcomes)
        for stamp, item, frames in self.queue:
            if isinstance(item, Begun):
                result = self.core.finish(item, next(outcome), per_frame, BATCHED_INFER)
                self._record(stamp, result, dataclasses.replace(item.obs, want_text=False),
                             frames)
            else:
                self._record(stamp, item, None, frames)
        self.queue.clear()

    def _latest_frames(self) -> dict | None:
        if len(self.run.inputs) + len(self.queue) >= self.cfg.mcap_frames:
            return None
        latest = self.ingest.history(1)
        return {c: f.image for c, f in latest[-1].frames.items()} if latest else None

    def _record(self, stamp: int, result: CycleResult, obs, frames: dict | None) -> None:
        """The cycle's sample; `obs` is the observation it planned on (None: ask the core)."""
        sample = self.inputs.sample(stamp, self.label_cfg, self.episode)
        if self.references is not None:
            sample.description, sample.justification = self.references(self.bag, stamp)
        elif (ref := bag_references(self.bag, stamp)) is not None:
            sample.description, sample.justification = ref[0] or None, ref[1] or None
            sample.qa = tuple((q, a, None) for q, a in ref[2])
        sample.plan = result.plan
        sample.failed = result.error is not None
        sample.degraded = result.status == "degraded"
        if result.plan is not None:
            sample.plan = _with_latency(result.plan, result.latency_s)
            self._text(stamp, sample, obs)
        self.run.samples.append(sample)
        if frames is not None and len(self.run.inputs) < self.cfg.mcap_frames:
            self.run.inputs[stamp] = frames

    def _text(self, stamp: int, sample: EvalSample, obs=None) -> None:
        """Scene text (and the frame's QA) on every `text_every`-th cycle, synchronously."""
        every = self.cfg.text_every
        if every <= 0 or (len(self.run.samples) % every) != 0:
            return
        if obs is None:
            obs, _ = self.core.observation(stamp)
        if obs is None:
            return
        start = time.perf_counter()
        try:
            text = self.policy.describe(obs)
        except PolicyError as exc:   # malformed text fails closed: counted, never scored
            LOG.warning("scene text rejected at %d: %s", stamp, exc)
            sample.text_status = REJECTED if isinstance(exc, MalformedOutputError) else FAILED
            sample.text_latency_s = time.perf_counter() - start
        else:
            if text is not None:
                sample.text_status, sample.text_latency_s = ACCEPTED, time.perf_counter() - start
                sample.plan = dataclasses.replace(sample.plan, description=text.description,
                                                  justification=text.justification)
                sample.text_meta, sample.text_waypoints = text.meta_action, text.waypoints
        if sample.qa:
            self._answer(obs, sample)

    def _answer(self, obs, sample: EvalSample) -> None:
        try:
            answers = self.policy.answer(obs, [q for q, _, _ in sample.qa])
        except PolicyError as exc:
            LOG.warning("QA failed at %d: %s", obs.stamp_ns, exc)
            return
        if answers is not None:
            sample.qa = tuple((q, a, p) for (q, a, _), p in zip(sample.qa, answers))


def _with_latency(plan, latency_s: dict):
    return dataclasses.replace(plan, latency_s=dict(latency_s))


def replay_policy(bag: BagData, policy: DrivingPolicy, cfg: ReplayConfig,
                  corruption: Corruption | None = None, label_cfg: LabelConfig | None = None,
                  episode: str = "", references: References | None = None,
                  inputs: ReplayInputs | None = None) -> ReplayRun:
    """Feed the whole bag to `policy`; one EvalSample per synchronised camera set.

    Reference texts come from the bag's `/sim/reference/...` topics; `references` replaces them
    with another provider of (description, justification) per frame. `inputs` (of this bag,
    `corruption` and `cfg.seed`) shares the decoded, corrupted frames and the labels with the
    other policies' replays of the same bag and condition."""
    if inputs is not None and (inputs.bag is not bag or inputs.corruption != corruption
                               or inputs.seed != cfg.seed):
        raise ValueError("replay inputs were made for another bag, corruption or seed")
    r = _Replayer(bag, policy, cfg, corruption, label_cfg or LabelConfig(), episode or bag.path,
                  references, inputs)
    wait_ns = int(cfg.planner_config().ingest.max_wait_s * NS_PER_S)
    events = r.inputs.events
    for stamp, _, kind, payload in events:
        r.ingest.poll(stamp)
        while r.pending and r.pending[0] < stamp and not r.done():
            r.cycle(r.pending.pop(0))
        if r.done():
            break
        r.feed(stamp, kind, payload)
    if r.pending or not r.done():
        r.ingest.poll((events[-1][0] if events else 0) + wait_ns + 1)
    while r.pending and not r.done():
        r.cycle(r.pending.pop(0))
    r.flush()
    r.run.ingest_stats = r.ingest.stats()
    return r.run
