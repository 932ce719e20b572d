"""What the planner listens to, ROS-free: one `InputSource` per topic, and the decision when a
new camera set is ready to plan on (lockstep with a simulator).

The node subscribes to `sources()` with the message type and converter of each `kind` (the
message layouts live in `ros/conversions.py`) and hands every converted message to `on_input`;
adding a sensor adds a kind here and a converter there, nothing in the node's wiring.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from vla_driving.sensors.config import IngestConfig
from vla_driving.sensors.ingest import Ingest, Rejection

IMAGE = "image"
COMPRESSED_IMAGE = "compressed_image"
ODOMETRY = "odometry"
INSTRUCTION = "instruction"
CAMERA_INFO = "camera_info"
IMAGE_KINDS = (IMAGE, COMPRESSED_IMAGE)
KINDS = (*IMAGE_KINDS, CAMERA_INFO, ODOMETRY, INSTRUCTION)


@dataclass(frozen=True)
class InputSource:
    """One subscription: its topic, the kind of message (which converter) and the slot it fills
    (a camera name, `odometry` or `instruction`)."""

    topic: str
    kind: str
    slot: str


def input_sources(cfg: IngestConfig) -> list[InputSource]:
    """Cameras in model order, their camera infos, then odometry and the instruction."""
    image_kind = COMPRESSED_IMAGE if cfg.transport == "compressed" else IMAGE
    return ([InputSource(cfg.topic_for(c), image_kind, c) for c in cfg.cameras]
            + [InputSource(cfg.camera_info_topic_for(c), CAMERA_INFO, c)
               for c in cfg.camera_info_cameras]
            + [InputSource(cfg.odometry_topic, ODOMETRY, ODOMETRY),
               InputSource(cfg.instruction_topic, INSTRUCTION, INSTRUCTION)])


class PlannerInputs:
    """Feeds converted messages to the `Ingest` and tracks the newest set not yet planned."""

    def __init__(self, ingest: Ingest, sync_with_frames: bool,
                 record: Callable[[dict[str, float]], None], wait_instruction: bool = False) -> None:
        self.ingest = ingest
        self.sync_with_frames = sync_with_frames
        self.wait_instruction = wait_instruction
        self._record = record
        self._new_set_ns: int | None = None
        ingest.add_set_listener(self._on_set)

    def on_input(self, source: InputSource, fields: Any, stamp_ns: int | None,
                 now_ns: int) -> Rejection | None:
        """One converted message; images are timed (decode + sync)."""
        if source.kind in IMAGE_KINDS:
            start = time.perf_counter()
            rejection = self.ingest.on_image(source.slot, fields, stamp_ns, now_ns)
            self._record({"decode": time.perf_counter() - start})
            return rejection
        if source.kind == CAMERA_INFO:
            self.ingest.on_camera_info(source.slot, fields)
            return None
        if source.kind == ODOMETRY:
            return self.ingest.on_odometry(fields, now_ns)
        if source.kind == INSTRUCTION:
            return self.ingest.on_instruction(fields, now_ns)
        raise ValueError(f"input kind {source.kind!r}: expected one of {list(KINDS)}")

    def frame_ready(self) -> bool:
        """Lockstep (`sync_with_frames`): True once per new set, as soon as odometry of its time
        has arrived too, so a plan does not depend on which topic was delivered first."""
        ego = self.ingest.ego
        if not self.sync_with_frames or self._new_set_ns is None or ego is None \
                or ego.stamp_ns < self._new_set_ns:
            return False
        if self.wait_instruction and not self.ingest.instruction:
            return False   # the bridge sent one first; over DDS it may come after the frame
        self._new_set_ns = None
        return True

    def _on_set(self, synced) -> None:
        self._new_set_ns = synced.stamp_ns
