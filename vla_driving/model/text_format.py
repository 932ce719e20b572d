"""The text planning output: one format writer and a strict parser that fails closed.

    Scene: <description>
    Meta-action: <speed level>, <steering level>
    Justification: <justification>
    Trajectory: (x1, y1), (x2, y2), ..., (x6, y6)

Numbers have exactly one decimal (metres, ego frame, x forward, y left). The parser rejects
anything else with a reason: it never pads, truncates or repairs (unlike OpenDriveVLA's regexes).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from vla_driving.constants import NUM_WAYPOINTS
from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS, MetaAction

SCENE = "Scene:"
META = "Meta-action:"
JUSTIFICATION = "Justification:"
TRAJECTORY = "Trajectory:"
FIELDS = (SCENE, META, JUSTIFICATION, TRAJECTORY)
MAX_ABS_COORD_M = 999.9
MAX_TEXT_CHARS = 400

_NUMBER = r"-?\d{1,3}\.\d"
_PAIR = re.compile(rf"\(({_NUMBER}), ({_NUMBER})\)")
_TEXT_OK = re.compile(r"[ -~]*")  # printable ASCII only
_SPEED_BY_TEXT = {s.replace("_", " "): s for s in SPEED_LEVELS}
_STEER_BY_TEXT = {s.replace("_", " "): s for s in STEERING_LEVELS}


class ParseError(ValueError):
    """Model text that is not exactly in the planning format; `reason` says what is wrong."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TextPlan:
    description: str
    meta_action: MetaAction
    justification: str
    waypoints: np.ndarray  # float32 (NUM_WAYPOINTS, 2)


def format_number(value: float) -> str:
    text = f"{float(value):.1f}"
    return "0.0" if text == "-0.0" else text


def format_trajectory(waypoints) -> str:
    pts = np.asarray(waypoints, dtype=np.float64).reshape(-1, 2)
    return ", ".join(f"({format_number(x)}, {format_number(y)})" for x, y in pts)


def format_plan(description: str, meta: MetaAction, justification: str, waypoints) -> str:
    """The training target of the text path (and what the parser accepts)."""
    pts = np.asarray(waypoints, dtype=np.float64)
    if not np.all(np.isfinite(pts)) or np.abs(pts).max(initial=0.0) > MAX_ABS_COORD_M:
        raise ValueError(f"waypoints out of the text format's range: {pts.tolist()}")
    lines = [_field(SCENE, _clean(description)), _field(META, meta.text()),
             _field(JUSTIFICATION, _clean(justification)),
             _field(TRAJECTORY, format_trajectory(pts))]
    return "\n".join(lines)


def _clean(text: str) -> str:
    """Training text made representable: one line of printable ASCII, bounded length."""
    text = " ".join(text.split())
    text = text.encode("ascii", "replace").decode("ascii")
    return text[:MAX_TEXT_CHARS]


def _field(name: str, value: str) -> str:
    return f"{name} {value}" if value else name


def parse_plan(text: str, num_waypoints: int = NUM_WAYPOINTS) -> TextPlan:
    """Parse generated text strictly; raise `ParseError` with the reason otherwise."""
    if not isinstance(text, str):
        raise ParseError(f"expected str, got {type(text).__name__}")
    lines = text.split("\n")
    if len(lines) != len(FIELDS):
        raise ParseError(f"expected {len(FIELDS)} lines ({', '.join(FIELDS)}), got {len(lines)}")
    values = [_field_value(line, name, i) for i, (line, name) in enumerate(zip(lines, FIELDS))]
    description, meta_text, justification, traj_text = values
    return TextPlan(description, _parse_meta(meta_text), justification,
                    _parse_trajectory(traj_text, num_waypoints))


def _field_value(line: str, name: str, index: int) -> str:
    if not line.startswith(name):
        raise ParseError(f"line {index + 1} must start with {name!r}, got {line[:40]!r}")
    rest = line[len(name):]
    if rest and not rest.startswith(" ") or rest == " ":
        raise ParseError(f"line {index + 1}: {name!r} must be followed by one space and a value")
    value = rest[1:]
    if value != value.strip() or "  " in value:
        raise ParseError(f"line {index + 1}: stray whitespace in {name} value")
    if not _TEXT_OK.fullmatch(value):
        raise ParseError(f"line {index + 1}: non-printable or non-ASCII characters in {name}")
    if len(value) > MAX_TEXT_CHARS:
        raise ParseError(f"line {index + 1}: {name} longer than {MAX_TEXT_CHARS} characters")
    return value


def _parse_meta(text: str) -> MetaAction:
    parts = text.split(", ")
    if len(parts) != 2:
        raise ParseError(f"meta-action must be '<speed>, <steering>', got {text!r}")
    speed, steer = parts
    if speed not in _SPEED_BY_TEXT:
        raise ParseError(f"unknown speed level {speed!r}; known: {sorted(_SPEED_BY_TEXT)}")
    if steer not in _STEER_BY_TEXT:
        raise ParseError(f"unknown steering level {steer!r}; known: {sorted(_STEER_BY_TEXT)}")
    return MetaAction(_SPEED_BY_TEXT[speed], _STEER_BY_TEXT[steer])


def _parse_trajectory(text: str, num_waypoints: int) -> np.ndarray:
    pairs = list(_PAIR.finditer(text))
    rebuilt = ", ".join(m.group(0) for m in pairs)
    if rebuilt != text:
        raise ParseError(f"trajectory is not a list of '(x.x, y.y)' pairs: {text[:60]!r}")
    if len(pairs) != num_waypoints:
        raise ParseError(f"trajectory has {len(pairs)} waypoints, expected {num_waypoints}")
    values = np.array([[float(m.group(1)), float(m.group(2))] for m in pairs], dtype=np.float32)
    if not all(math.isfinite(v) for v in values.ravel()):
        raise ParseError("trajectory has non-finite values")
    return values
