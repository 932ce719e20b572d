"""The one policy contract: `DrivingPolicy.infer(observation) -> Plan`, and its typed errors.

Rate limiting, holding the last plan, recording and text scheduling are wrappers
(`vla_driving.policy.wrappers`, `vla_driving.policy.text_scheduler`), not flags on a policy.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from typing import Sequence

from vla_driving.meta_action import MetaAction
from vla_driving.types import Observation, Plan


class PolicyError(RuntimeError):
    """A policy could not produce a plan; the planner reports it and publishes nothing."""


class MalformedOutputError(PolicyError):
    """The model's output failed parsing or validation (fails closed: never a motion command)."""


class PolicyUnavailableError(PolicyError):
    """The policy cannot be built (missing or invalid bundle, missing backend)."""


@dataclass(frozen=True)
class SceneText:
    """Scene description, meta-action and justification of the observation stamped `stamp_ns`
    (the source image's time); `waypoints` is the text's own trajectory when it has one."""

    stamp_ns: int
    description: str
    justification: str
    latency_s: float = 0.0
    meta_action: MetaAction | None = None
    waypoints: object = None          # float (6, 2) ego-frame metres, or None


class DrivingPolicy(abc.ABC):
    """Observation in, Plan out; implementations must be safe to call from one worker thread."""

    bundle_id: str = ""
    warm_up_s: float = 0.0    # what the factory's `warm_up()` took (0: nothing to warm)
    batches: bool = False     # `infer_batch` runs its observations together (not the loop)

    @abc.abstractmethod
    def infer(self, observation: Observation) -> Plan:
        """Plan for `observation`; raises `PolicyError` (typed) instead of returning bad output."""

    def infer_batch(self, observations: Sequence[Observation]) -> list[Plan | Exception]:
        """`infer` of each observation, in order (open-loop replay: the inputs are recorded, never
        the policy's own outputs); each item is the plan or the exception `infer` raised for it.
        Default: a loop over `infer`; a policy that runs them together sets `batches`."""
        out: list[Plan | Exception] = []
        for observation in observations:
            try:
                out.append(self.infer(observation))
            except Exception as exc:  # noqa: BLE001 - the caller fails that frame closed
                out.append(exc)
        return out

    def describe(self, observation: Observation) -> SceneText | None:
        """Scene description + justification; None when the policy has no text head."""
        return None

    def answer(self, observation: Observation, questions: Sequence[str]) -> list[str] | None:
        """One answer per scene question; None when the policy cannot answer questions."""
        return None

    def history_frames(self, stamps_ns: list[int]) -> list[int]:
        """Indices of the image sets (stamps oldest first) the policy reads; the planner stacks
        only those into the observation. Default: all of them."""
        return list(range(len(stamps_ns)))

    def warm_up(self) -> float:
        """Run the model once on a dummy input so the first real plan costs no first-call setup;
        leaves no trace (history, counters, recordings). Seconds spent; default: nothing to do."""
        return 0.0

    def close(self) -> None:
        """Release engines and memory."""
