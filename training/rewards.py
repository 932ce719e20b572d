"""Rule rewards of the text path for GRPO (DriveRX's rule and task rewards; no judge model).

Plan text (`Scene: / Meta-action: / Justification: / Trajectory:`): strict-parse validity (a
partial credit for the field lines that are right, in order), the meta-action against the
expert label (Sce2DriveX's steering 0.7 / speed 0.3), the trajectory's L2 to the label as
`exp(-L2 / scale)`. QA: exact match against the scene graph's answer (SQuAD normalisation).
Both: a length penalty beyond `length_factor` x the reference's token count, -1 for text that
never ended within `max_new_tokens`, and a repetition penalty (the share of repeated 3-grams).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vla_driving.configuration import Config, param
from vla_driving.evaluation.text_metrics import answer_matches
from vla_driving.meta_action import MetaAction
from vla_driving.model.text_format import FIELDS, ParseError, parse_plan

STEER_WEIGHT, SPEED_WEIGHT = 0.7, 0.3


@dataclass
class RewardWeights(Config):
    """Weights of the rule rewards (each term is in [-1, 1] before weighting)."""

    format: float = param(1.0, "strict parse (1), else 0.1 per field line in place", low=0.0)
    meta: float = param(1.0, "meta-action match with the expert label (steer 0.7, speed 0.3)",
                        low=0.0)
    trajectory: float = param(1.0, "exp(-L2 avg / trajectory_scale_m) of a parsed trajectory",
                              low=0.0)
    qa: float = param(1.0, "QA exact match", low=0.0)
    length: float = param(0.5, "penalty for length beyond length_factor x the reference, and "
                          "-1 for text that never ended", low=0.0)
    repetition: float = param(0.5, "penalty: share of repeated word 3-grams", low=0.0)
    trajectory_scale_m: float = param(2.0, "L2 scale of the trajectory reward", low=1e-3)
    length_factor: float = param(1.5, "free length, in reference token counts", low=1.0)


def field_credit(text: str) -> float:
    """0.1 per line that starts with the right field in the right place (at most 0.4)."""
    lines = text.split("\n")
    return 0.1 * sum(1 for line, name in zip(lines, FIELDS) if line.startswith(name))


def repetition(text: str, n: int = 3) -> float:
    """Share of word n-grams that repeat an earlier one (0: none, towards 1: a loop)."""
    words = text.split()
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 0.0 if not grams else 1.0 - len(set(grams)) / len(grams)


def length_penalty(tokens: int, ended: bool, reference_tokens: int, factor: float) -> float:
    if not ended:
        return -1.0
    free = factor * max(reference_tokens, 1)
    return -min(1.0, max(0.0, tokens - free) / free)


def meta_score(pred: MetaAction, label: MetaAction) -> float:
    return STEER_WEIGHT * (pred.steering == label.steering) + SPEED_WEIGHT * (
        pred.speed == label.speed)


def plan_reward(text: str, ended: bool, tokens: int, label_meta: MetaAction,
                label_waypoints, reference_tokens: int, w: RewardWeights) -> dict[str, float]:
    """Reward terms of one sampled plan text and their weighted `total`."""
    try:
        plan = parse_plan(text) if ended else None
    except ParseError:
        plan = None
    terms = {"format": 1.0 if plan is not None else field_credit(text),
             "meta": 0.0, "trajectory": 0.0,
             "length": length_penalty(tokens, ended, reference_tokens, w.length_factor),
             "repetition": -repetition(text)}
    if plan is not None:
        terms["meta"] = meta_score(plan.meta_action, label_meta)
        l2 = float(np.linalg.norm(plan.waypoints - np.asarray(label_waypoints), axis=-1).mean())
        terms["trajectory"] = math.exp(-l2 / w.trajectory_scale_m)
    terms["total"] = sum(getattr(w, k) * v for k, v in terms.items())
    terms["parsed"] = float(plan is not None)
    return terms


def qa_reward(answer: str, ended: bool, tokens: int, expected: str, reference_tokens: int,
              w: RewardWeights) -> dict[str, float]:
    terms = {"qa": float(ended and answer_matches(answer, expected)),
             "length": length_penalty(tokens, ended, reference_tokens, w.length_factor),
             "repetition": -repetition(answer)}
    terms["total"] = sum(getattr(w, k) * v for k, v in terms.items())
    return terms
