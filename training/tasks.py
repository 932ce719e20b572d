"""Per-task batch -> (loss, logs): captions (stage 1), QA (stage 2), driving (stage 3).

The same functions serve every stage; a stage picks its tasks and loss weights in config.
"""

from __future__ import annotations

import random

import torch
from torch.nn import functional as F

from vla_driving.meta_action import MetaAction
from vla_driving.model.inference import encode_prompts
from vla_driving.model.prompt import CAPTION_PROMPT, answer_target, driving_prompt, question_prompt
from vla_driving.model.text_format import format_plan
from vla_driving.model.tokenizer import TextTokenizer
from vla_driving.model.vision import normalise_images

from .config import LossWeights


def targets(tokenizer: TextTokenizer, texts: list[str]) -> list[list[int]]:
    return [tokenizer.encode(t) + [tokenizer.eos_id] for t in texts]


def caption_inputs(batch: dict, tokenizer: TextTokenizer):
    keep = [i for i, d in enumerate(batch["description"]) if d.strip()]
    prompts = encode_prompts(tokenizer, [CAPTION_PROMPT] * len(keep))
    return keep, prompts, targets(tokenizer, [" " + answer_target(batch["description"][i])
                                              for i in keep])


def qa_inputs(batch: dict, tokenizer: TextTokenizer, rng: random.Random):
    keep = [i for i, rounds in enumerate(batch["qa"]) if rounds]
    chosen = [rng.choice(batch["qa"][i]) for i in keep]
    prompts = encode_prompts(tokenizer, [question_prompt(q) for q, _ in chosen])
    return keep, prompts, targets(tokenizer, [" " + answer_target(a) for _, a in chosen])


def plan_text(batch: dict, i: int) -> str:
    meta = MetaAction.from_indices(int(batch["speed_level"][i]), int(batch["steering_level"][i]))
    return format_plan(batch["description"][i], meta, batch["justification"][i],
                       batch["waypoints"][i].tolist())


def drive_inputs(batch: dict, tokenizer: TextTokenizer):
    n = len(batch["instruction"])
    prompts = encode_prompts(tokenizer, [
        driving_prompt(batch["ego"][i].tolist(), batch["past"][i].tolist(),
                       batch["instruction"][i]) for i in range(n)])
    return list(range(n)), prompts, targets(tokenizer, [plan_text(batch, i) for i in range(n)])


def text_loss(out) -> torch.Tensor:
    return F.cross_entropy(out.target_logits.float(), out.target_labels)


def action_losses(actions, batch: dict, model_cfg, w: LossWeights,
                  soft_meta=None) -> dict[str, torch.Tensor]:
    """The action head's losses; `soft_meta` = (speed, steering) probabilities to distill."""
    scale = model_cfg.head.waypoint_scale_m
    ctl_scale = batch["controls"].new_tensor(model_cfg.head.control_scale)
    terms = {} if soft_meta is None else {
        "distill": w.distill * (F.cross_entropy(actions.speed_logits, soft_meta[0])
                                + F.cross_entropy(actions.steering_logits, soft_meta[1]))}
    return terms | {
        "waypoints": w.waypoints * F.smooth_l1_loss(actions.waypoints / scale,
                                                    batch["waypoints"] / scale),
        "controls": w.controls * F.smooth_l1_loss(actions.controls / ctl_scale,
                                                  batch["controls"] / ctl_scale),
        "meta": w.meta * (F.cross_entropy(actions.speed_logits, batch["speed_level"])
                          + F.cross_entropy(actions.steering_logits, batch["steering_level"])),
        "completed": w.completed * F.binary_cross_entropy_with_logits(
            actions.completed_logit, batch["instruction_completed"]),
    }


def select(batch: dict, keep: list[int]) -> dict:
    index = torch.tensor(keep, dtype=torch.long)
    return {k: (v[index] if torch.is_tensor(v) else [v[i] for i in keep]) for k, v in batch.items()}


def has_task_data(sample: dict, task: str) -> bool:
    """Whether one sample can feed `task` (frames without ground truth have no caption/QA)."""
    if task == "caption":
        return bool(sample["description"].strip())
    if task == "qa":
        return bool(sample["qa"])
    return True


def drive_terms(model, model_cfg, tokenizer, batch, images, weights: LossWeights,
                text_per_batch: int, teachers=None, probes=None) -> dict[str, torch.Tensor]:
    """Action losses on the whole batch; the text loss on the first `text_per_batch` samples;
    with `probes` (key -> `token_probes.TokenProbe`, attached to the frontend) and simulator
    data, the lead car and the lane read from the batch's visual tokens.

    With `text_per_batch` > 0 the action pass has no target text (short sequences) and a second
    pass decodes the text of a few samples: the same losses at a fraction of the CPU time.
    """
    n = len(batch["instruction"])
    soft = teachers.meta_probs(batch) if teachers is not None else None
    whole_text = not 0 < text_per_batch < n
    _, prompts, tgts = drive_inputs(batch, tokenizer)
    out = model(images, batch["ego"], batch["past"], prompts, tgts if whole_text else None,
                use_queries=True)
    terms = action_losses(out.actions, batch, model_cfg, weights, soft)
    for key, head in (probes or {}).items():   # before a second pass replaces the tokens
        if key in batch:
            terms[key] = getattr(weights, key) * head.loss(batch[key], n)
    if whole_text:
        terms["drive_text"] = weights.text * text_loss(out)
        return terms
    sub = select(batch, list(range(text_per_batch)))
    _, prompts, tgts = drive_inputs(sub, tokenizer)
    text_out = model(images[:text_per_batch], sub["ego"], sub["past"], prompts, tgts,
                     use_queries=True)
    terms["drive_text"] = weights.text * text_loss(text_out)
    return terms


def batch_loss(model, model_cfg, tokenizer: TextTokenizer, batch: dict, tasks: list[str],
               weights: LossWeights, rng: random.Random, text_per_batch: int = 0,
               teachers=None, aux_per_batch: int = 0,
               probes=None) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum of the stage's task losses on one batch (model may be DDP-wrapped).

    `teachers` (`distill.Teachers`) adds the distillation term to the drive task;
    `aux_per_batch` > 0 limits caption/qa to that many of the batch's samples that have them.
    """
    images = normalise_images(batch["images"], model_cfg.vision)
    terms: dict[str, torch.Tensor] = {}
    for task in tasks:
        if task == "drive":
            terms.update(drive_terms(model, model_cfg, tokenizer, batch, images, weights,
                                     text_per_batch, teachers, probes))
            continue
        if task == "qa":
            keep, prompts, tgts = qa_inputs(batch, tokenizer, rng)
        else:
            keep, prompts, tgts = caption_inputs(batch, tokenizer)
        if aux_per_batch:
            keep, tgts = keep[:aux_per_batch], tgts[:aux_per_batch]
            prompts = prompts[:aux_per_batch]
        if not keep:
            continue
        sub = select(batch, keep)
        out = model(images[keep], sub["ego"], sub["past"], prompts, tgts, use_queries=False)
        text_weight = weights.qa if task == "qa" and "drive" in tasks else weights.text
        terms[f"{task}_text"] = text_weight * text_loss(out)
    if not terms:
        # Nothing to learn in this batch (no captions/QA): a zero loss still attached to the
        # graph, so that every DDP rank runs the same collective ops.
        return images.sum() * 0.0 + sum(p.sum() * 0.0 for p in model.parameters()
                                         if p.requires_grad), {}
    total = sum(terms.values())
    return total, {k: float(v.detach()) for k, v in terms.items()}
