"""Scene-understanding QA from a scene graph: templates with synonymous phrasings, multi-round.

Each question kind has several phrasings of the question and of the answer; a generator seeded
from (seed, episode, stamp) picks the kinds and phrasings, so the QA of a frame is reproducible.
The answer's phrasing is the one paired with the question's (same index): drawn apart, the
phrasing of the reference was a coin no model could read off the frame, and exact match (the
QA metric) was capped near a third however well the scene was understood.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import numpy as np

from .scene_graph import LOCATION_TEXT, RELATIVE_TEXT, SceneGraph, article

MIN_ROUNDS, MAX_ROUNDS = 3, 5

QUESTIONS = {
    "road_type": ("What type of road is the ego vehicle on?", "What kind of road is this?",
                  "Which road type is the car driving on?"),
    "structure": ("What is the road structure here?", "Describe the layout of the road.",
                  "What does the road look like at this point?"),
    "lanes": ("How many lanes are there?", "How many lanes does the road have in our direction?",
              "What is the number of lanes?"),
    "ego_lane": ("Which lane is the ego vehicle in?", "In which lane is the car driving?",
                 "What lane are we in?"),
    "facilities": ("Are there any traffic facilities?", "Which traffic facilities are present?",
                   "Do you see any road facilities?"),
    "count": ("How many vehicles are around the ego vehicle?", "How many road users are nearby?",
              "Count the surrounding traffic participants."),
    "ahead": ("Is there a vehicle ahead in our lane?", "Is the lane in front of us occupied?",
              "Is any vehicle driving directly in front of us?"),
    "participant": ("What is the {cat} {loc} doing?", "Describe the {cat} {loc}.",
                    "Tell me about the {cat} {loc}."),
}


def _answers(kind: str, g: SceneGraph, rng: np.random.Generator) -> tuple[str, tuple]:
    """(question format arguments, answer phrasings) for one kind."""
    if kind == "road_type":
        road = article(f"{g.road_type} road")
        return {}, (f"It is {road}.", f"The car is on {road}.", f"{road.capitalize()}, {g.direction}.")
    if kind == "structure":
        return {}, (f"The road structure is {g.structure}.", f"It is {article(g.structure)} section.",
                    f"{article(g.direction).capitalize()} {g.structure} section.")
    if kind == "lanes":
        n = g.lane_count
        return {}, (f"There {'is' if n == 1 else 'are'} {n} lane{'s' * (n != 1)}.",
                    f"{n} lane{'s' * (n != 1)} in the driving direction.",
                    f"The road has {n} lane{'s' * (n != 1)} our way.")
    if kind == "ego_lane":
        return {}, (f"Lane {g.ego_lane} of {g.lane_count} from the left, {g.ego_lane_name}.",
                    f"The ego vehicle is in {g.ego_lane_name} (lane {g.ego_lane} of "
                    f"{g.lane_count}).", f"We drive in {g.ego_lane_name}.")
    if kind == "facilities":
        if not g.facilities:
            return {}, ("No traffic facilities are present.", "None.",
                        "There are no traffic facilities here.")
        items = ", ".join(g.facilities)
        return {}, (f"Yes: {items}.", f"The scene has {items}.", f"I see {items}.")
    if kind == "count":
        return {}, _count_answers(g)
    if kind == "ahead":
        return {}, _ahead_answers(g)
    p = g.participants[int(rng.integers(len(g.participants)))]
    desc = (f"It is {p.status}, {p.distance_m:.0f} m away ({p.distance_bucket}), driving in the "
            f"{p.orientation}, {RELATIVE_TEXT[p.relative_speed]}.")
    return {"cat": f"{p.size} {p.category}", "loc": LOCATION_TEXT[p.location]}, (
        desc, f"A {p.size} {p.category}: {desc[6:]}", f"That {p.category} is {desc[6:]}")


def _count_answers(g: SceneGraph) -> tuple:
    n = len(g.participants)
    if n == 0:
        return ("There are no vehicles nearby.", "None within 50 m.", "The road around us is empty.")
    cats = Counter(p.category for p in g.participants)
    parts = ", ".join(f"{k} {c}{'s' * (k != 1)}" for c, k in sorted(cats.items()))
    return (f"{n} within 50 m: {parts}.", f"There are {n} road users nearby ({parts}).",
            f"I count {n}: {parts}.")


def _ahead_answers(g: SceneGraph) -> tuple:
    ahead = [p for p in g.participants if p.in_ego_lane and p.location == "front"]
    if not ahead:
        return ("No, the lane ahead is clear.", "No, nothing is in front of us in our lane.",
                "No vehicle is directly ahead.")
    p = ahead[0]
    return (f"Yes, a {p.size} {p.category} {p.distance_m:.0f} m ahead, {p.status}.",
            f"Yes, {article(p.category)} is {p.distance_m:.0f} m ahead in our lane, "
            f"{RELATIVE_TEXT[p.relative_speed]}.",
            f"Yes, there is a {p.status} {p.category} {p.distance_m:.0f} m in front.")


def question_kind(question: str) -> str:
    """The kind (a key of QUESTIONS) whose phrasing `question` is; "other" for none."""
    for kind, phrasings in QUESTIONS.items():
        for phrasing in phrasings:
            pattern = re.escape(phrasing).replace(r"\{cat\}", ".+").replace(r"\{loc\}", ".+")
            if re.fullmatch(pattern, question):
                return kind
    return "other"


def frame_rng(seed: int, episode: str, stamp_ns: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}|{episode}|{stamp_ns}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def qa_rounds(g: SceneGraph | None, rng: np.random.Generator) -> list[tuple[str, str]]:
    """3-5 (question, answer) rounds; [] without a scene graph."""
    if g is None:
        return []
    kinds = [k for k in QUESTIONS if k != "participant" or g.participants]
    n = int(rng.integers(MIN_ROUNDS, MAX_ROUNDS + 1))
    chosen = [kinds[i] for i in rng.choice(len(kinds), size=min(n, len(kinds)), replace=False)]
    out = []
    for kind in chosen:
        fmt, answers = _answers(kind, g, rng)
        phrasing = int(rng.integers(len(QUESTIONS[kind])))
        out.append((QUESTIONS[kind][phrasing].format(**fmt), answers[phrasing % len(answers)]))
    return out
