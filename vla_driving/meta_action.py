"""The fixed meta-action vocabulary (Sce2DriveX style): a speed level and a steering level.

The class lists are part of the model's output contract: their order is the index of the model's
classification heads, so never reorder them; append only with a new bundle format version.
Weighted accuracy follows Sce2DriveX: steering counts 0.7, speed 0.3.

Sce2DriveX composes its meta-actions from three factors, lateral speed level (rapidly /
moderately / slightly) x steering level x longitudinal speed level, and counts 64 types. Its
exact level split (which steering levels carry a lateral grade, how many speed levels) is not
given in any source we could reach, so `META_TYPES` is our documented equivalent on this
vocabulary: standing still (`idle`) is one type; straight driving carries the 5 speed levels; the
four lateral manoeuvres (turns, shifts) carry the 5 speed levels x 3 lateral levels:
1 + 5 + 4 x 5 x 3 = 66 types. The model's heads stay 5 speed x 6 steering; the lateral level is
derived from a trajectory (`vla_driving.data.meta_rules.lateral_level`).
"""

from __future__ import annotations

from dataclasses import dataclass

SPEED_LEVELS = (
    "quick_accelerate",
    "accelerate",
    "constant_speed",
    "decelerate",
    "quick_decelerate",
)

STEERING_LEVELS = (
    "idle",          # standing still
    "straight",
    "turn_left",
    "turn_right",
    "shift_left",    # lateral move without a lasting heading change (lane change)
    "shift_right",
)

LATERAL_LEVELS = ("slightly", "moderately", "rapidly")
LATERAL_STEERING = ("turn_left", "turn_right", "shift_left", "shift_right")

STEERING_WEIGHT = 0.7
SPEED_WEIGHT = 0.3


@dataclass(frozen=True)
class MetaAction:
    speed: str
    steering: str

    def __post_init__(self) -> None:
        if self.speed not in SPEED_LEVELS:
            raise ValueError(f"unknown speed level {self.speed!r}; known: {SPEED_LEVELS}")
        if self.steering not in STEERING_LEVELS:
            raise ValueError(f"unknown steering level {self.steering!r}; known: {STEERING_LEVELS}")

    @property
    def speed_index(self) -> int:
        return SPEED_LEVELS.index(self.speed)

    @property
    def steering_index(self) -> int:
        return STEERING_LEVELS.index(self.steering)

    @classmethod
    def from_indices(cls, speed: int, steering: int) -> "MetaAction":
        return cls(SPEED_LEVELS[speed], STEERING_LEVELS[steering])

    def text(self) -> str:
        return f"{self.speed.replace('_', ' ')}, {self.steering.replace('_', ' ')}"


def meta_type(meta: MetaAction, lateral: str | None) -> str:
    """The composite type (lateral x steering x speed) of a meta-action, one of `META_TYPES`;
    `lateral` is needed for turns and shifts and ignored otherwise."""
    if meta.steering == "idle":
        return "idle"
    if meta.steering not in LATERAL_STEERING:
        return f"{meta.speed}/{meta.steering}"
    if lateral not in LATERAL_LEVELS:
        raise ValueError(f"a {meta.steering} needs a lateral level from {LATERAL_LEVELS}, "
                         f"got {lateral!r}")
    return f"{meta.speed}/{meta.steering}/{lateral}"


META_TYPES = (("idle",)
              + tuple(f"{sp}/straight" for sp in SPEED_LEVELS)
              + tuple(f"{sp}/{st}/{lat}" for sp in SPEED_LEVELS for st in LATERAL_STEERING
                      for lat in LATERAL_LEVELS))


def weighted_accuracy(pred: list[MetaAction], true: list[MetaAction]) -> float:
    """Sce2DriveX meta-action weighted accuracy in [0, 1]."""
    if len(pred) != len(true):
        raise ValueError(f"{len(pred)} predictions for {len(true)} labels")
    if not true:
        return float("nan")
    steer = sum(p.steering == t.steering for p, t in zip(pred, true)) / len(true)
    speed = sum(p.speed == t.speed for p, t in zip(pred, true)) / len(true)
    return STEERING_WEIGHT * steer + SPEED_WEIGHT * speed
