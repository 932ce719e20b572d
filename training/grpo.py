"""GRPO on the text path (DriveRX stage 4): a small loop of our own on Accelerate.

Per step, each frame of the batch gives one prompt (the driving prompt, answered with the text
chain scene -> meta-action -> justification -> trajectory, or one of its QA questions); the
policy samples `group_size` answers per prompt; rule rewards (`rewards.py`) score them; each
answer's advantage is its reward minus the group mean over the group's standard deviation; the
loss is the advantage-weighted negative log-likelihood of the sampled tokens (one update per
sample batch, so the importance ratio is 1 and needs no clipping), plus `kl` x the k3 estimate
of the KL to the stage's starting weights when `kl` > 0. Groups whose answers all score the same
carry no signal and are dropped (DriveRX's difficulty filtering; frames can also be filtered by
their dataset difficulty score).

TRL's `GRPOTrainer` is not used: it samples with `model.generate(input_ids)`, and our prompt
starts with visual, state and query embeddings that only `VLAModel` builds; sampling here uses
the same decoder and KV cache as inference (`model.llm`, `decoder_step`).
"""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import Subset

from vla_driving.meta_action import MetaAction
from vla_driving.model.inference import build_prefix, encode_prompts, greedy_decode
from vla_driving.model.llm import decoder_step
from vla_driving.model.prompt import QA_MAX_NEW_TOKENS, answer_target, question_prompt
from vla_driving.model.vision import normalise_images

from .collate import collate_samples
from .config import StageConfig, TrainConfig
from .rewards import RewardWeights, plan_reward, qa_reward
from .tasks import drive_inputs, plan_text

LOG = logging.getLogger(__name__)
GRPO_JSON = "grpo.json"


@dataclass
class Prompt:
    kind: str                 # plan / qa
    index: int                # the frame's row in the batch
    ids: list[int]
    reference: str            # the target text (its token count bounds the length reward)
    label_meta: MetaAction | None = None
    label_waypoints: np.ndarray | None = None

    @property
    def use_queries(self) -> bool:
        return self.kind == "plan"


def batch_prompts(batch: dict, tokenizer, kinds: list[str], rng: random.Random) -> list[Prompt]:
    """One prompt per frame: a QA question (when the frame has QA and `qa` is a kind, with
    even odds against `plan` when both are), else the driving prompt."""
    _, plan_ids, _ = drive_inputs(batch, tokenizer)
    out = []
    for i, rounds in enumerate(batch["qa"]):
        qa = "qa" in kinds and rounds and ("plan" not in kinds or rng.random() < 0.5)
        if qa:
            question, answer = rng.choice(rounds)
            out.append(Prompt("qa", i, encode_prompts(tokenizer, [question_prompt(question)])[0],
                              answer_target(answer)))
        elif "plan" in kinds:
            meta = MetaAction.from_indices(int(batch["speed_level"][i]),
                                           int(batch["steering_level"][i]))
            out.append(Prompt("plan", i, plan_ids[i], plan_text(batch, i), meta,
                              batch["waypoints"][i].numpy()))
    return out


@torch.no_grad()
def sample_group(model, prefix_embeds: torch.Tensor, eos_id: int, group: int, limit: int,
                 temperature: float, generator: torch.Generator) -> list[tuple[list[int], bool]]:
    """`group` sampled continuations of one prefix [1, L, D], decoded together with the KV
    cache; each (token ids without EOS, ended within `limit`)."""
    lm_head = model.llm.get_output_embeddings()
    hidden, cache = decoder_step(model.llm, prefix_embeds.expand(group, -1, -1), use_cache=True)
    out: list[list[int]] = [[] for _ in range(group)]
    ended = [False] * group
    for step in range(limit + 1):   # one look past the limit: EOS exactly there still ends
        probs = torch.softmax(lm_head(hidden[:, -1]).float() / temperature, dim=-1)
        tokens = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1)
        for i, token in enumerate(tokens.tolist()):
            if ended[i]:
                continue
            if token == eos_id:
                ended[i] = True
            elif step < limit:
                out[i].append(token)
        if all(ended) or step == limit:
            break
        hidden, cache = decoder_step(model.llm, model.embed_tokens(tokens.view(-1, 1).to(
            prefix_embeds.device)), cache=cache, use_cache=True)
    return list(zip(out, ended))


def score(prompt: Prompt, ids: list[int], ended: bool, tokenizer, w: RewardWeights) -> dict:
    text = tokenizer.decode(ids)
    ref_tokens = len(tokenizer.encode(prompt.reference))
    if prompt.kind == "qa":
        return qa_reward(" ".join(text.split()), ended, len(ids), prompt.reference, ref_tokens, w)
    return plan_reward(text, ended, len(ids), prompt.label_meta, prompt.label_waypoints,
                       ref_tokens, w)


def advantages(rewards: list[float]) -> np.ndarray:
    """Group-normalised: (r - mean) / std; zeros for a group that scored all the same."""
    r = np.asarray(rewards, dtype=np.float64)
    std = r.std()
    return np.zeros_like(r) if std < 1e-8 else (r - r.mean()) / std


@dataclass
class Rollout:
    prompt: Prompt
    ids: list[int]
    ended: bool
    advantage: float


def rollouts(model, tokenizer, images, batch, prompts, stage: StageConfig,
             generator: torch.Generator) -> tuple[list[Rollout], dict]:
    """Sample, score and keep the answers of every group with a reward spread."""
    g, cfg = stage.grpo, model.cfg
    rows, rewards, parsed, skipped = [], [], [], 0
    for p in prompts:
        i = p.index
        prefix = build_prefix(model, images[i:i + 1], batch["ego"][i:i + 1],
                              batch["past"][i:i + 1], p.ids, p.use_queries)
        limit = QA_MAX_NEW_TOKENS if p.kind == "qa" else (g.max_new_tokens or cfg.max_new_tokens)
        group = sample_group(model, prefix.embeds, tokenizer.eos_id, g.group_size, limit,
                             g.temperature, generator)
        terms = [score(p, ids, ended, tokenizer, g.rewards) for ids, ended in group]
        totals = [t["total"] for t in terms]
        rewards += totals
        parsed += [t["parsed"] for t in terms if "parsed" in t]
        adv = advantages(totals)
        if g.skip_uniform_groups and not adv.any():
            skipped += 1
            continue
        rows += [Rollout(p, ids, ended, float(a)) for (ids, ended), a in zip(group, adv)]
    stats = {"reward": float(np.mean(rewards)) if rewards else 0.0, "skipped_groups": skipped,
             "groups": len(prompts), "parse_rate": float(np.mean(parsed)) if parsed else None}
    return rows, stats


def policy_loss(model, images, batch, rows: list[Rollout], eos_id: int, temperature: float,
                reference=None, kl: float = 0.0) -> torch.Tensor:
    """Advantage-weighted negative log-likelihood of the sampled tokens (EOS included where the
    answer ended), averaged over each answer's tokens and then over the answers; plus kl x the
    k3 KL estimate (averaged the same way)."""
    total, answers = None, 0
    for use_queries in (True, False):
        sub = [r for r in rows if r.prompt.use_queries == use_queries]
        if not sub:
            continue
        idx = [r.prompt.index for r in sub]
        targets = [r.ids + [eos_id] if r.ended else list(r.ids) for r in sub]
        args = (images[idx], batch["ego"][idx], batch["past"][idx], [r.prompt.ids for r in sub],
                targets)
        out = model(*args, use_queries=use_queries)
        logp = -F.cross_entropy(out.target_logits.float() / temperature, out.target_labels,
                                reduction="none")
        # each answer's tokens weigh 1 / its length: every answer counts once (GRPO's
        # per-sequence mean), so long wrong answers do not outweigh short right ones
        adv = torch.cat([logp.new_full((len(t),), r.advantage / len(t))
                         for r, t in zip(sub, targets)])
        part = -(adv * logp).sum()
        if reference is not None and kl > 0:
            with torch.no_grad():
                ref = reference(*args, use_queries=use_queries)
                ref_logp = -F.cross_entropy(ref.target_logits.float() / temperature,
                                            ref.target_labels, reduction="none")
            delta = ref_logp - logp
            per_token = torch.cat([logp.new_full((len(t),), 1.0 / len(t)) for t in targets])
            part = part + kl * (per_token * (torch.exp(delta) - delta - 1.0)).sum()
        total = part if total is None else total + part
        answers += len(sub)
    return total / max(answers, 1)


def fixed_prompts(batch: dict, tokenizer, kinds: list[str]) -> list[Prompt]:
    """Every prompt of a (one-frame) batch: the driving prompt and each QA question."""
    out = batch_prompts(batch, tokenizer, ["plan"], random.Random(0)) if "plan" in kinds else []
    if "qa" in kinds:
        out += [Prompt("qa", 0, encode_prompts(tokenizer, [question_prompt(q)])[0],
                       answer_target(a)) for q, a in batch["qa"][0]]
    return out


@torch.no_grad()
def evaluate_prompts(model, tokenizer, dataset, indices: list[int], stage: StageConfig,
                     seed: int = 0) -> dict:
    """The fixed prompt set (every prompt of the frames at `indices`, of the stage's kinds):
    `reward`, the mean reward of `group_size` answers sampled per prompt (the objective GRPO
    raises; sampled with a fixed seed), and the greedy answers' plan reward, parse rate,
    meta-action score and QA accuracy."""
    g = stage.grpo
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    sampled, plan, qa = [], [], []
    for k in indices:
        batch = collate_samples([dataset[k]])
        images = normalise_images(batch["images"], model.cfg.vision)
        for p in fixed_prompts(batch, tokenizer, g.prompts):
            limit = QA_MAX_NEW_TOKENS if p.kind == "qa" else (g.max_new_tokens
                                                                or model.cfg.max_new_tokens)
            prefix = build_prefix(model, images, batch["ego"], batch["past"], p.ids,
                                  p.use_queries)
            ids, ended = greedy_decode(model, prefix.embeds, tokenizer.eos_id, limit)
            (qa if p.kind == "qa" else plan).append(score(p, ids, ended, tokenizer, g.rewards))
            sampled += [score(p, i, e, tokenizer, g.rewards)["total"] for i, e in sample_group(
                model, prefix.embeds, tokenizer.eos_id, g.group_size, limit, g.temperature,
                generator)]
    model.train(was_training)
    return {"reward": float(np.mean(sampled)) if sampled else None,
            "greedy_reward": _mean(plan + qa, "total"), "parse_rate": _mean(plan, "parsed"),
            "meta_score": _mean(plan, "meta"), "qa_accuracy": _mean(qa, "qa"),
            "prompts": len(plan) + len(qa)}


def _mean(rows: list[dict], key: str):
    return float(np.mean([r[key] for r in rows])) if rows else None


def grpo_dataset(train_set, min_difficulty: float):
    """The frames at or above `min_difficulty` (the dataset's per-frame difficulty score)."""
    if min_difficulty <= 0:
        return train_set
    keep = [i for i in range(len(train_set)) if _difficulty(train_set, i) >= min_difficulty]
    if not keep:
        raise ValueError(f"no frame has difficulty >= {min_difficulty}")
    return Subset(train_set, keep)


def _difficulty(dataset, i: int) -> float:
    sample = getattr(dataset, "sample", None)
    if sample is not None:        # DrivingDataset: without decoding the images
        from .data.difficulty import difficulty
        return float(difficulty(sample(i)[1]))
    return float(dataset[i]["difficulty"])


def fixed_items(items: int, count: int) -> list[int]:
    """`count` evenly spaced dataset indices: the prompts scored before and after the stage."""
    if not count:
        return []
    return sorted({int(i) for i in np.linspace(0, items - 1, min(count, items)).round()})


def _report(directory: Path, summary: dict) -> None:
    (directory / GRPO_JSON).write_text(json.dumps(summary, indent=2))
    before, after = summary["before"], summary["after"]
    LOG.info("grpo: fixed-prompt reward %.3f -> %.3f, parse rate %s -> %s", before["reward"]
             or 0.0, after["reward"] or 0.0, before["parse_rate"], after["parse_rate"])


def run_grpo_stage(accelerator, model, tokenizer, train_set, val_set, cfg: TrainConfig,
                   stage: StageConfig, out_dir: Path) -> dict:
    """Train one GRPO stage; returns the loss and reward curves and the before/after scores of
    the fixed prompt set (with the usual validation metrics)."""
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    from .loop import Updates, _save, _validate, batches, make_loader

    set_seed(cfg.seed)
    g = stage.grpo
    fixed = fixed_items(len(train_set), g.eval_prompts)
    before = evaluate_prompts(model, tokenizer, train_set, fixed, stage)
    updates = Updates.for_stage(model, stage)
    reference = copy.deepcopy(model).eval().requires_grad_(False) if g.kl > 0 else None
    loader = make_loader(grpo_dataset(train_set, g.min_difficulty), cfg, stage)
    ddp_model, updates.optimizer, loader, updates.scheduler = accelerator.prepare(
        model, updates.optimizer, loader, updates.scheduler)
    rng = random.Random(cfg.seed * 1009 + accelerator.process_index)
    generator = torch.Generator().manual_seed(cfg.seed * 7919 + accelerator.process_index)
    data = batches(loader, getattr(loader, "set_epoch", None))
    losses, curve = [], []
    bar = tqdm(total=stage.steps, desc=stage.name, disable=not accelerator.is_main_process)
    start = time.perf_counter()
    for _ in range(stage.steps):
        batch = next(data)
        images = normalise_images(batch["images"], model.cfg.vision)
        prompts = batch_prompts(batch, tokenizer, g.prompts, rng)
        model.eval()
        rows, stats = rollouts(model, tokenizer, images, batch, prompts, stage, generator)
        model.train()
        loss = (policy_loss(ddp_model, images, batch, rows, tokenizer.eos_id, g.temperature,
                            reference, g.kl) if rows else
                sum(p.sum() * 0.0 for p in updates.params))   # every rank: same collectives
        accelerator.backward(loss)
        updates.step(accelerator, stage)
        losses.append(float(loss.detach()))
        curve.append(stats)
        bar.set_postfix(reward=f"{stats['reward']:.3f}", skipped=stats["skipped_groups"])
        bar.update()
    bar.close()
    updates.finish()
    after = evaluate_prompts(model, tokenizer, train_set, fixed, stage)
    directory = out_dir / stage.name
    _save(accelerator, model, tokenizer, directory, cfg, stage, stage.steps, losses)
    metrics = _validate(accelerator, model, tokenizer, val_set, cfg, directory)
    if accelerator.is_main_process:
        _report(directory, {"before": before, "after": after, "curve": curve, "loss": losses,
                            "fixed_prompts": fixed})
    accelerator.free_memory()
    return {"loss": losses, "reward": [c["reward"] for c in curve],
            "metrics": {**metrics, "grpo": {"before": before, "after": after}},
            "seconds": time.perf_counter() - start}
