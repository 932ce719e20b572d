"""The policies an evaluation compares: the bundle's model and the baselines, by name."""

from __future__ import annotations

import dataclasses

import numpy as np

from vla_driving.policy.base import DrivingPolicy
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.types import ControlSignals, Plan
from vla_driving.evaluation.summary import EvalSample

MODEL = "model"
CONSTANT_VELOCITY = "constant_velocity"
EXPERT_RECORDED = "expert_recorded"


def load_model_policy(bundle: str, torch_threads: int = 0,
                      llm_kernel: str = "default") -> DrivingPolicy:
    """The bundle's VLA policy without the planner's text thread (replay asks for text itself);
    `torch_threads` as `EngineConfig.torch_threads` and, for the encoder, its
    `intra_op_threads` (0: the libraries' defaults, one per core); `llm_kernel` as
    `EngineConfig.llm_kernel`.

    Raises PolicyUnavailableError naming the reason (missing bundle, missing backend)."""
    from vla_driving.engines.config import EngineConfig
    from vla_driving.policy.factory import load_vla_policy

    return load_vla_policy(bundle, EngineConfig(torch_threads=torch_threads,
                                                intra_op_threads=torch_threads,
                                                llm_kernel=llm_kernel))


def baseline_policies() -> dict[str, DrivingPolicy]:
    return {CONSTANT_VELOCITY: ConstantVelocityPolicy()}


def recorded_expert(samples: list[EvalSample]) -> list[EvalSample]:
    """The driven (expert) trajectory as a policy: its plan is the label itself. L2 is 0 by
    construction; its collision rate is the floor of the collision metric on this data (boxes
    that touch in the recording), which is what the row is for. Unlabelled frames are left out."""
    out = []
    for s in samples:
        if s.true_waypoints is None or s.plan is None:
            continue   # no label: the expert row covers labelled frames only
        controls = ControlSignals.from_array(s.true_controls)
        plan = dataclasses.replace(
            s.plan, waypoints=np.asarray(s.true_waypoints), controls=controls,
            next_controls=controls, meta_action=s.true_meta or s.plan.meta_action,
            bundle_id=EXPERT_RECORDED, description=None, justification=None, latency_s={})
        out.append(dataclasses.replace(  # the replayed policy's text and answers are not its
            s, plan=plan, text_status=None, text_latency_s=None, text_meta=None,
            text_waypoints=None, qa=tuple((q, a, None) for q, a, _ in s.qa)))
    return out
