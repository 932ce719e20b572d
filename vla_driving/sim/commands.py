"""Driving commands (the instruction vocabulary) and their text forms.

The instruction topic carries text, so bags from a car can hold free text; `command_from_text`
maps the canonical phrasings (and a few synonyms) back to a command for labels and statistics.
"""

from __future__ import annotations

KEEP_LANE = "keep_lane"
CHANGE_LANE_LEFT = "change_lane_left"
CHANGE_LANE_RIGHT = "change_lane_right"
TURN_LEFT = "turn_left"
TURN_RIGHT = "turn_right"
GO_STRAIGHT = "go_straight"
SPEED_UP = "speed_up"
SLOW_DOWN = "slow_down"
STOP = "stop"

COMMANDS = (KEEP_LANE, CHANGE_LANE_LEFT, CHANGE_LANE_RIGHT, TURN_LEFT, TURN_RIGHT, GO_STRAIGHT,
            SPEED_UP, SLOW_DOWN, STOP)
LANE_CHANGES = (CHANGE_LANE_LEFT, CHANGE_LANE_RIGHT)
TURNS = (TURN_LEFT, TURN_RIGHT, GO_STRAIGHT)

COMMAND_TEXT = {
    KEEP_LANE: "keep the current lane",
    CHANGE_LANE_LEFT: "change to the left lane",
    CHANGE_LANE_RIGHT: "change to the right lane",
    TURN_LEFT: "turn left at the intersection",
    TURN_RIGHT: "turn right at the intersection",
    GO_STRAIGHT: "go straight at the intersection",
    SPEED_UP: "speed up",
    SLOW_DOWN: "slow down",
    STOP: "stop the car",
}

_SYNONYMS = {
    KEEP_LANE: ("keep lane", "follow the lane", "stay in lane"),
    CHANGE_LANE_LEFT: ("change lane left", "lane change left", "move to the left lane"),
    CHANGE_LANE_RIGHT: ("change lane right", "lane change right", "move to the right lane"),
    TURN_LEFT: ("turn left",),
    TURN_RIGHT: ("turn right",),
    GO_STRAIGHT: ("go straight", "straight ahead"),
    SPEED_UP: ("accelerate", "faster"),
    SLOW_DOWN: ("decelerate", "slower"),
    STOP: ("stop", "halt", "pull over"),
}


def command_text(command: str) -> str:
    if command not in COMMAND_TEXT:
        raise ValueError(f"unknown command {command!r}; known: {COMMANDS}")
    return COMMAND_TEXT[command]


def command_from_text(text: str) -> str | None:
    """The command a text names (canonical text, command id or a synonym), else None."""
    t = " ".join(text.lower().replace("_", " ").split())
    for command in COMMANDS:
        if t in (COMMAND_TEXT[command], command.replace("_", " ")):
            return command
    for command in COMMANDS:
        if any(s in t for s in _SYNONYMS[command]):
            return command
    return None
