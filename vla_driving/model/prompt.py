"""Prompts: ego state and driving command as text (OpenDriveVLA), plus the QA/caption prompts."""

from __future__ import annotations

import numpy as np

from vla_driving.model.text_format import format_number, format_trajectory

CAPTION_PROMPT = "Describe the scene."
PLAN_SUFFIX = "Plan:"
ANSWER_SUFFIX = "Answer:"
QA_MAX_NEW_TOKENS = 48   # the longest template answer is 26 tokens with the default tokenizer


def driving_prompt(ego, past, instruction: str, with_past: bool = False) -> str:
    """ego (3,): speed m/s, yaw rate rad/s, acceleration m/s^2; past (4, 2) ego-frame positions.

    The past positions are left out of the text by default: the state token carries them, and
    they would double the prompt length (CPU training time goes with sequence length).
    """
    ego = np.asarray(ego, dtype=np.float64).reshape(3)
    speed, yaw_rate, accel = ego
    command = " ".join(str(instruction).split()) or "follow the road"
    past_line = f"Past: {format_trajectory(past)}\n" if with_past else ""
    return (f"Ego: speed {format_number(speed)} m/s, yaw rate {yaw_rate:.2f} rad/s, "
            f"acceleration {format_number(accel)} m/s2.\n{past_line}"
            f"Command: {command}\n{PLAN_SUFFIX}")


def question_prompt(question: str) -> str:
    return f"Question: {' '.join(question.split())}\n{ANSWER_SUFFIX}"


def answer_target(answer: str) -> str:
    return " ".join(str(answer).split())
