"""The text path's bad input on a real tiny bundle (untrained weights): a prompt longer than the
model leaves room for is cut with a warning, text that never ends is rejected at
`max_new_tokens`, scene questions get one answer each, and /vla/description's JSON carries the
meta-action."""

import json
import logging

import numpy as np
import pytest
from tiny_bundle_builder import build_tiny_bundle

from vla_driving.constants import NS_PER_S
from vla_driving.meta_action import MetaAction
from vla_driving.model.processor import ModelInputError, bound_prompt
from vla_driving.policy.base import MalformedOutputError, SceneText
from vla_driving.policy.planner_outputs import description_json
from vla_driving.types import EgoState, Observation

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    from vla_driving.policy.vla_policy import VlaPolicy
    return VlaPolicy.from_bundle(build_tiny_bundle(tmp_path_factory.mktemp("tiny")))


def observation(policy, instruction="keep the current lane"):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, len(policy.cameras), 48, 48, 3), dtype=np.uint8)
    return Observation(NS_PER_S, images, policy.cameras, EgoState(NS_PER_S, speed=6.0),
                       instruction=instruction)


def long_instruction(n: int) -> str:
    rng = np.random.default_rng(1)
    return "".join(chr(c) for c in rng.integers(33, 127, n))


def test_the_prefix_is_the_fixed_tokens_plus_the_prompt(policy):
    from vla_driving.model.inference import build_prefix
    model = policy.bundle.model
    x = policy._inputs(observation(policy))
    prefix = build_prefix(model, x.images, x.ego, x.past, x.prompts[0], True)
    assert prefix.embeds.shape[1] == model.fixed_tokens(True) + len(x.prompts[0])
    prefix = build_prefix(model, x.images, x.ego, x.past, x.prompts[0], False)
    assert prefix.embeds.shape[1] == model.fixed_tokens(False) + len(x.prompts[0])


def test_an_over_long_prompt_is_cut_with_one_warning(policy, caplog):
    model, tok = policy.bundle.model, policy.bundle.tokenizer
    obs = observation(policy, long_instruction(1000))
    full = policy.processor.inputs(obs, np.zeros((4, 2)), tok).prompts[0]
    room = model.cfg.llm.max_positions - model.fixed_tokens(True)
    assert len(full) > room            # uncut, the sequence would not fit the model at all
    with caplog.at_level(logging.WARNING, logger="vla_driving.policy.vla_policy"):
        policy.infer(obs)
        policy.infer(obs)
    cuts = [r for r in caplog.records if "cut to" in r.getMessage()]
    assert len(cuts) == 1 and f"cut to {room}" in cuts[0].getMessage()
    x = policy._inputs(obs, generate=model.cfg.max_new_tokens)
    assert len(x.prompts[0]) == room - model.cfg.max_new_tokens
    plan_suffix = tok.encode("\nPlan:")
    assert x.prompts[0][-len(plan_suffix):] == plan_suffix == full[-len(plan_suffix):]
    assert x.prompts[0][:50] == full[:50]         # the head is kept, the tail cut


def test_bound_prompt_keeps_the_closing_suffix_and_refuses_no_room():
    assert bound_prompt([1, 2, 3, 4, 8, 9], 4, [8, 9]) == [1, 2, 8, 9]
    assert bound_prompt([1, 2, 3, 4, 5], 3, [8, 9]) == [1, 2, 3]     # no suffix to keep
    assert bound_prompt([1, 2], 3, [2]) == [1, 2]
    with pytest.raises(ModelInputError):
        bound_prompt([1, 2, 3, 8, 9], 2, [8, 9])


def test_text_that_never_ends_is_rejected_at_max_new_tokens(policy, monkeypatch):
    """EOS masked out of the real model's logits: decoding can only stop at the limit."""
    import torch
    model = policy.bundle.model
    head, eos = model.llm.get_output_embeddings(), policy.bundle.tokenizer.eos_id

    def no_eos(hidden):
        logits = head(hidden)
        logits[..., eos] = -torch.inf
        return logits
    monkeypatch.setattr(model.llm, "get_output_embeddings", lambda: no_eos)
    limit = model.cfg.max_new_tokens
    with pytest.raises(MalformedOutputError, match=f"no end within max_new_tokens={limit}"):
        policy.describe(observation(policy))
    assert policy.answer(observation(policy), ["How many lanes?"]) == [""]


def test_text_that_ends_at_once_fails_the_parser_instead(policy, monkeypatch):
    import torch
    model = policy.bundle.model
    head, eos = model.llm.get_output_embeddings(), policy.bundle.tokenizer.eos_id

    def only_eos(hidden):
        logits = head(hidden)
        logits[..., eos] = torch.inf
        return logits
    monkeypatch.setattr(model.llm, "get_output_embeddings", lambda: only_eos)
    with pytest.raises(MalformedOutputError, match="expected 4 lines"):
        policy.describe(observation(policy))
    assert policy.answer(observation(policy), ["a?", "b?"]) == ["", ""]


def test_every_question_gets_an_answer(policy):
    answers = policy.answer(observation(policy), ["How many lanes?", "Is it raining?"])
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)


def test_description_json_carries_the_chain_stamped_with_the_image():
    text = SceneText(7 * NS_PER_S + 5, "two cars ahead", "it slows for the car",
                     meta_action=MetaAction("decelerate", "straight"),
                     waypoints=np.zeros((6, 2)))
    doc = json.loads(description_json(text, "b@1"))
    assert doc["stamp"] == {"sec": 7, "nanosec": 5} and doc["stamp_ns"] == text.stamp_ns
    assert doc["meta_action"] == {"speed": "decelerate", "steering": "straight"}
    assert doc["description"] == "two cars ahead" and len(doc["trajectory"]) == 6
