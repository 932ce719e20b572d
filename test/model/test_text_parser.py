"""The strict text-plan parser: valid plans round-trip, malformed text is rejected with a reason."""

import random

import numpy as np
import pytest

from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS, MetaAction
from vla_driving.model.text_format import ParseError, format_plan, parse_plan

WAYPOINTS = np.array([[2.5, 0.0], [5.1, 0.1], [7.7, 0.4], [10.2, 0.9], [12.8, 1.6], [15.3, 2.4]])
META = MetaAction("accelerate", "shift_left")


def valid_text(description="two cars ahead in the left lane", justification="overtake slowly"):
    return format_plan(description, META, justification, WAYPOINTS)


def test_valid_plan_round_trips():
    plan = parse_plan(valid_text())
    assert plan.description == "two cars ahead in the left lane"
    assert plan.meta_action == META
    assert plan.justification == "overtake slowly"
    np.testing.assert_allclose(plan.waypoints, WAYPOINTS, atol=0.051)


@pytest.mark.parametrize("speed", SPEED_LEVELS)
@pytest.mark.parametrize("steer", STEERING_LEVELS)
def test_every_meta_action_parses(speed, steer):
    meta = MetaAction(speed, steer)
    assert parse_plan(format_plan("", meta, "", -WAYPOINTS)).meta_action == meta


def test_empty_description_is_allowed_and_negative_zero_is_normalised():
    text = format_plan("", META, "", np.zeros((6, 2)) * -1.0)
    assert "-0.0" not in text
    assert parse_plan(text).description == ""


def test_format_refuses_unrepresentable_waypoints():
    with pytest.raises(ValueError):
        format_plan("", META, "", np.full((6, 2), 1e4))
    with pytest.raises(ValueError):
        format_plan("", META, "", np.full((6, 2), np.nan))


def _mutations(text: str, rng: random.Random) -> list[str]:
    lines = text.split("\n")
    traj = lines[3]
    return [
        "", "\n", text + "\n", "\n" + text, text + " ", text + "\nextra line",
        "\n".join(lines[:3]),                                    # missing trajectory
        "\n".join([lines[1], lines[0], lines[2], lines[3]]),     # wrong order
        text.replace("Scene:", "scene:"), text.replace("Meta-action: ", "Meta-action:"),
        text.replace("Trajectory: ", "Trajectory:  "),
        text.replace("accelerate", "accelerating"), text.replace("shift left", "shift_left"),
        text.replace(", shift left", ""), text.replace("accelerate, ", "accelerate,"),
        text.replace(traj, traj.rsplit(", (", 1)[0]),            # 5 waypoints
        text.replace(traj, traj + ", (1.0, 1.0)"),               # 7 waypoints
        text.replace("(2.5, 0.0)", "(2.50, 0.0)"), text.replace("(2.5, 0.0)", "(2, 0.0)"),
        text.replace("(2.5, 0.0)", "(nan, 0.0)"), text.replace("(2.5, 0.0)", "(inf, 0.0)"),
        text.replace("(2.5, 0.0)", "(1e3, 0.0)"), text.replace("(2.5, 0.0)", "(+2.5, 0.0)"),
        text.replace("(2.5, 0.0)", "(2.5,0.0)"), text.replace("(2.5, 0.0)", "[2.5, 0.0]"),
        text.replace("(2.5, 0.0)", "(2.5, 0.0, 1.0)"), text.replace("(2.5, 0.0)", "(1234.5, 0.0)"),
        text.replace("), (", "),("), text.replace("), (", ") ("), text.rstrip(")"),
        text.replace("two cars", "two\tcars"), text.replace("two cars", "two caré"),
        text.replace("two cars", "two  cars"), text.replace("\n", "\r\n"),
        text[: rng.randrange(1, len(text) - 1)],                 # truncated
    ]


def _random_corpus(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    corpus = []
    for _ in range(count):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        corpus.append(raw.decode("utf-8", errors="replace"))
        corpus.append(raw.decode("latin-1"))
    text = valid_text()
    for _ in range(count):  # random single-character edits of a valid plan
        i = rng.randrange(len(text))
        corpus.append(text[:i] + rng.choice("x(),.\n-9 ") + text[i + 1:])
        corpus.append(text[:i] + text[i + 1:])
    return corpus


def test_malformed_corpus_is_rejected_with_a_reason():
    rng = random.Random(0)
    corpus = _mutations(valid_text(), rng) + _random_corpus(1, 200)
    rejected = 0
    for text in corpus:
        try:
            plan = parse_plan(text)
        except ParseError as exc:
            assert exc.reason and len(exc.reason) > 10
            rejected += 1
            continue
        # A random edit may still be a well-formed plan (e.g. a digit changed): then it must
        # re-format to exactly the same text, i.e. nothing was padded, cut or repaired.
        assert format_plan(plan.description, plan.meta_action, plan.justification,
                           plan.waypoints) == text
    assert rejected >= len(corpus) * 0.8


@pytest.mark.parametrize("bad", [None, 12, b"Scene:"])
def test_non_text_input_is_rejected(bad):
    with pytest.raises(ParseError, match="expected str"):
        parse_plan(bad)


def test_reasons_name_the_problem():
    text = valid_text()
    with pytest.raises(ParseError, match="5 waypoints"):
        parse_plan(text.replace(text.split("\n")[3], text.split("\n")[3].rsplit(", (", 1)[0]))
    with pytest.raises(ParseError, match="unknown speed level"):
        parse_plan(text.replace("accelerate", "zoom"))
    with pytest.raises(ParseError, match="expected 4 lines"):
        parse_plan(text + "\n")
