"""Text targets of a sample: scene description, behaviour justification and QA rounds.

The justification explains the meta-action from the instruction and the scene graph (a vehicle
ahead, an empty target lane); without ground truth it falls back to the instruction alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .qa import frame_rng, qa_rounds
from .scene_graph import LOCATION_TEXT, SceneGraph, article, scene_graph

CLOSE_AHEAD_M = 35.0
STEER_PHRASES = {"idle": "stays still", "straight": "keeps straight", "turn_left": "turns left",
                 "turn_right": "turns right", "shift_left": "moves one lane to the left",
                 "shift_right": "moves one lane to the right"}
SPEED_PHRASES = {"quick_accelerate": "accelerates hard", "accelerate": "speeds up",
                 "constant_speed": "holds its speed", "decelerate": "slows down",
                 "quick_decelerate": "brakes hard"}


@dataclass
class SampleText:
    description: str = ""
    justification: str = ""
    qa: list = field(default_factory=list)


def describe(g: SceneGraph | None) -> str:
    if g is None:
        return ""
    n = len(g.participants)
    traffic = "no other vehicles nearby" if n == 0 else \
        f"{n} vehicle{'s' * (n != 1)} within 50 m, the nearest a {g.participants[0].size} " \
        f"{g.participants[0].category} {g.participants[0].distance_m:.0f} m " \
        f"{LOCATION_TEXT[g.participants[0].location]}"
    facilities = f" Facilities: {', '.join(g.facilities)}." if g.facilities else ""
    return (f"The ego vehicle drives at {g.ego_speed:.0f} m/s in {g.ego_lane_name} of a "
            f"{g.lane_count}-lane {g.direction} {g.road_type} road ({g.structure}).{facilities} "
            f"There {'are' if n != 1 else 'is'} {traffic}.")


def _reason(meta, g: SceneGraph | None, instruction: str) -> str:
    if g is not None and meta.speed in ("decelerate", "quick_decelerate"):
        ahead = [p for p in g.participants if p.in_ego_lane and p.location == "front"
                 and p.distance_m < CLOSE_AHEAD_M]
        if ahead:
            return f"a {ahead[0].category} is {ahead[0].distance_m:.0f} m ahead in the same lane"
    if g is not None and meta.steering in ("shift_left", "shift_right"):
        side = "left" if meta.steering == "shift_left" else "right"
        busy = [p for p in g.participants if side in p.location and p.distance_m < 15.0]
        gap = "the gap there is large enough" if not busy else "it merges into a gap"
        return f"{'the instruction asks for it' if instruction else 'of the traffic'} and {gap}"
    if instruction:
        return f"the instruction is to {instruction}"
    return "the road ahead allows it"


def justify(meta, g: SceneGraph | None, instruction: str) -> str:
    return (f"The car {SPEED_PHRASES[meta.speed]} and {STEER_PHRASES[meta.steering]} because "
            f"{_reason(meta, g, instruction)}.")


def annotate(sample, lanes=None, seed: int = 0) -> SampleText:
    """Description, justification and QA of one sample (deterministic given the seed)."""
    del lanes  # lane geometry is drawn in the images; the graph uses the road context
    g = scene_graph(sample.ground_truth, sample.pose, float(sample.labels.ego[0]))
    rng = frame_rng(seed, sample.episode, sample.stamp_ns)
    return SampleText(describe(g), justify(sample.labels.meta, g, sample.instruction),
                      qa_rounds(g, rng))
