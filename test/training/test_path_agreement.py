"""On a trained tiny model the action-query path and the text path give the same trajectory."""

import numpy as np
import torch

from vla_driving.model.inference import (build_prefix, driving_prompts, generate_plan_texts,
                                         greedy_generate, plan_actions)
from vla_driving.model.text_format import parse_plan
from vla_driving.model.vision import normalise_images
from vla_driving_training.collate import collate_samples

# The text path writes one decimal, so it can differ by 0.05 m from rounding alone; the rest is
# what two separately trained outputs of a small model may disagree by.
AGREEMENT_TOLERANCE_M = 0.3


def test_text_and_action_paths_agree(overfit_tiny):
    model, tok, data, losses = overfit_tiny
    assert losses[-1] < 0.2 * losses[0]
    batch = collate_samples([data[i] for i in range(len(data))])
    actions = plan_actions(model, tok, batch["images"], batch["ego"], batch["past"],
                           batch["instruction"])
    texts = generate_plan_texts(model, tok, batch["images"], batch["ego"], batch["past"],
                                batch["instruction"])
    for i, text in enumerate(texts):
        plan = parse_plan(text)  # raises (fails the test) if the model wrote a malformed plan
        gap = np.abs(plan.waypoints - actions.waypoints[i].numpy()).max()
        assert gap < AGREEMENT_TOLERANCE_M, (i, text)
        assert plan.meta_action.steering_index == int(actions.steering_logits[i].argmax())
    # and both are close to the labels they were trained on
    err = (actions.waypoints - batch["waypoints"]).norm(dim=-1).mean()
    assert err < AGREEMENT_TOLERANCE_M


def test_kv_cache_on_trained_model(overfit_tiny):
    model, tok, data, _ = overfit_tiny
    batch = collate_samples([data[0]])
    images = normalise_images(batch["images"], model.cfg.vision)
    prompt = driving_prompts(tok, batch["ego"], batch["past"], batch["instruction"])[0]
    prefix = build_prefix(model, images, batch["ego"], batch["past"], prompt, use_queries=True)
    cached = greedy_generate(model, prefix.embeds, tok.eos_id, 150)
    uncached = greedy_generate(model, prefix.embeds, tok.eos_id, 150, use_cache=False)
    assert cached == uncached and len(cached) > 50


def test_completed_flag_and_meta_learned(overfit_tiny):
    model, tok, data, _ = overfit_tiny
    batch = collate_samples([data[i] for i in range(len(data))])
    with torch.no_grad():
        a = plan_actions(model, tok, batch["images"], batch["ego"], batch["past"],
                         batch["instruction"])
    assert torch.equal(a.steering_logits.argmax(-1), batch["steering_level"])
    assert torch.equal(a.speed_logits.argmax(-1), batch["speed_level"])
    assert torch.equal((a.completed_logit > 0).float(), batch["instruction_completed"])
