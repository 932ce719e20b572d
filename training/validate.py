"""Validation: L2 at 1/2/3 s (UniAD) vs constant velocity, meta-action accuracy, QA accuracy,
and the braking probe: how much the model slows where the expert does, with and without the
ego's past motion (a model that copies that motion brakes only once it is braking).

Shared by the per-stage validation of the training loop and by `evaluate.py` on a data dir.
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from vla_driving.evaluation.control_metrics import meta_action_metrics
from vla_driving.constants import WAYPOINT_DT_S
from vla_driving.evaluation.planning_metrics import l2_metrics
from vla_driving.evaluation.text_metrics import answer_matches, qa_accuracy
from vla_driving.meta_action import MetaAction
from vla_driving.model.inference import encode_prompts, generate_texts, plan_actions
from vla_driving.model.prompt import QA_MAX_NEW_TOKENS, answer_target, question_prompt
from vla_driving.model.text_format import ParseError, parse_plan
from vla_driving.model.vision import normalise_images

from .collate import collate_samples
from .data.qa import question_kind
from .history_dropout import drop_history

BRAKING = 0.9        # a braking frame: the expert travels under 90 % of constant velocity's
MIN_TRAVEL_M = 5.0   # ... over the horizon, when constant velocity travels at least this far


def constant_velocity(ego: np.ndarray, steps: int) -> np.ndarray:
    """The baseline of `policy.constant_velocity` (default, straight): speed x t along x."""
    t = WAYPOINT_DT_S * np.arange(1, steps + 1)
    x = np.asarray(ego, dtype=np.float64)[:, :1] * t[None]
    return np.stack([x, np.zeros_like(x)], axis=-1)


def evenly_spaced(dataset, count: int):
    if len(dataset) <= count:
        return dataset
    return Subset(dataset, np.linspace(0, len(dataset) - 1, count).round().astype(int).tolist())


def braking_response(pred: np.ndarray, true: np.ndarray, cv: np.ndarray) -> dict:
    """On the frames where the expert slows (its travel over the horizon under BRAKING x constant
    velocity's): the mean travel of the expert and of the model as a share of constant velocity
    (1.0: no braking at all)."""
    travel = cv[:, -1, 0]
    frames = (travel > MIN_TRAVEL_M) & (true[:, -1, 0] < BRAKING * travel)
    if not frames.any():
        return {"frames": 0, "expert": None, "model": None}
    return {"frames": int(frames.sum()),
            "expert": float((true[frames, -1, 0] / travel[frames]).mean()),
            "model": float((pred[frames, -1, 0] / travel[frames]).mean())}


def _braking(pred: np.ndarray, true: np.ndarray, cv: np.ndarray, scenes: list[str]) -> dict:
    """`braking_response` over every frame and per scenario."""
    scenes = np.array(scenes)
    return {**braking_response(pred, true, cv), "by_scenario": {
        scene: braking_response(pred[scenes == scene], true[scenes == scene], cv[scenes == scene])
        for scene in sorted(set(scenes) - {""})}}


@torch.no_grad()
def action_metrics(model, tokenizer, dataset, batch_size: int) -> dict:
    """Action-query path over `dataset`, with the constant-velocity baseline side by side, and
    again on the same frames with every sample's past motion hidden (`history_hidden`: no
    acceleration, a constant-speed past; the probe of a model that copies the ego's motion
    instead of looking, history_dropout.py)."""
    preds, hidden, trues, cvs, metas_p, metas_t, done, scenes = [], [], [], [], [], [], [], []
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=collate_samples)
    for batch in loader:
        scenes += [str(e).split("_")[0] for e in batch["episode"]]
        out = plan_actions(model, tokenizer, batch["images"], batch["ego"], batch["past"],
                           batch["instruction"])
        blind = drop_history(batch, 1.0, random.Random(0))
        hidden.append(plan_actions(model, tokenizer, blind["images"], blind["ego"],
                                   blind["past"], blind["instruction"]).waypoints.numpy())
        preds.append(out.waypoints.numpy())
        trues.append(batch["waypoints"].numpy())
        cvs.append(constant_velocity(batch["ego"].numpy(), model.cfg.num_waypoints))
        metas_p += [MetaAction.from_indices(int(s), int(t)) for s, t in
                    zip(out.speed_logits.argmax(-1), out.steering_logits.argmax(-1))]
        metas_t += [MetaAction.from_indices(int(s), int(t)) for s, t in
                    zip(batch["speed_level"], batch["steering_level"])]
        done.append(((out.completed_logit > 0).float() == batch["instruction_completed"]).numpy())
    pred, true, cv = np.concatenate(preds), np.concatenate(trues), np.concatenate(cvs)
    hid = np.concatenate(hidden)
    return {"samples": len(true), "l2": l2_metrics(pred, true)["uniad"],
            "l2_constant_velocity": l2_metrics(cv, true)["uniad"],
            "braking": _braking(pred, true, cv, scenes),
            "history_hidden": {"l2": l2_metrics(hid, true)["uniad"],
                               "braking": _braking(hid, true, cv, scenes)},
            "meta": meta_action_metrics(metas_p, metas_t),
            "completed_accuracy": float(np.concatenate(done).mean())}


@torch.no_grad()
def text_metrics(model, tokenizer, dataset) -> dict:
    """QA exact-match accuracy and the text plan's parse rate and L2 vs the action path."""
    answers, expected, kinds, parsed, gaps = [], [], [], 0, []
    for i in range(len(dataset)):
        batch = collate_samples([dataset[i]])
        images = normalise_images(batch["images"], model.cfg.vision)
        rounds = batch["qa"][0]
        if rounds:
            prompts = encode_prompts(tokenizer, [question_prompt(q) for q, _ in rounds])
            n = len(rounds)
            answers += generate_texts(model, tokenizer, images.expand(n, -1, -1, -1, -1),
                                      batch["ego"].expand(n, -1), batch["past"].expand(n, -1, -1),
                                      prompts, use_queries=False, max_new_tokens=QA_MAX_NEW_TOKENS)
            expected += [answer_target(a) for _, a in rounds]
            kinds += [question_kind(q) for q, _ in rounds]
        plan = _text_plan(model, tokenizer, batch)
        if plan is not None:
            parsed += 1
            gaps.append(float(np.linalg.norm(plan - batch["waypoints"][0].numpy(), axis=-1).mean()))
    return {"qa_accuracy": qa_accuracy(answers, expected) if expected else float("nan"),
            "qa_questions": len(expected), "qa_by_kind": _by_kind(answers, expected, kinds),
            "text_parse_rate": parsed / max(1, len(dataset)),
            "text_l2_avg": float(np.mean(gaps)) if gaps else float("nan")}


def _by_kind(answers: list[str], expected: list[str], kinds: list[str]) -> dict:
    """kind -> [right, asked]: where the QA accuracy is lost."""
    out: dict[str, list[int]] = {}
    for a, e, k in zip(answers, expected, kinds):
        tally = out.setdefault(k, [0, 0])
        tally[0] += answer_matches(a, e)
        tally[1] += 1
    return dict(sorted(out.items()))


def _text_plan(model, tokenizer, batch):
    from vla_driving.model.inference import generate_plan_texts

    text = generate_plan_texts(model, tokenizer, batch["images"], batch["ego"], batch["past"],
                               batch["instruction"])[0]
    try:
        return parse_plan(text, model.cfg.num_waypoints).waypoints
    except ParseError:
        return None


def validate(model, tokenizer, dataset, samples: int, text_samples: int, batch_size: int) -> dict:
    was_training = model.training
    model.eval()
    try:
        metrics = action_metrics(model, tokenizer, evenly_spaced(dataset, samples), batch_size)
        if text_samples:
            metrics.update(text_metrics(model, tokenizer, evenly_spaced(dataset, text_samples)))
    finally:
        model.train(was_training)
    return metrics


def format_metrics(name: str, m: dict) -> str:
    """One short table for the log / terminal."""
    l2, cv = m["l2"], m["l2_constant_velocity"]
    lines = [f"[{name}] {m['samples']} samples   L2 (m)    1s     2s     3s    avg",
             f"  model               {l2['1s']:6.2f} {l2['2s']:6.2f} {l2['3s']:6.2f} {l2['avg']:6.2f}",
             f"  constant velocity   {cv['1s']:6.2f} {cv['2s']:6.2f} {cv['3s']:6.2f} {cv['avg']:6.2f}",
             f"  meta-action weighted accuracy {100 * m['meta']['weighted_accuracy']:.1f} % "
             f"(steer {100 * m['meta']['steering_accuracy']:.1f}, "
             f"speed {100 * m['meta']['speed_accuracy']:.1f}); "
             f"completed {100 * m['completed_accuracy']:.1f} %"]
    brake, hidden = m.get("braking"), m.get("history_hidden")
    if brake and brake["frames"] and hidden:
        lines.append(f"  braking frames: travel / constant velocity's (expert, model, model "
                     f"without its past motion); that model's L2 avg {hidden['l2']['avg']:.2f} m")
        groups = [("all", brake, hidden["braking"])] + [
            (scene, b, hidden["braking"]["by_scenario"][scene])
            for scene, b in brake.get("by_scenario", {}).items() if b["frames"]]
        lines += [f"    {name:<13} {b['frames']:5d} frames  {b['expert']:.2f}  {b['model']:.2f}  "
                  f"{h['model']:.2f}" for name, b, h in groups]
    if "qa_accuracy" in m:
        lines.append(f"  QA accuracy {100 * m['qa_accuracy']:.1f} % ({m['qa_questions']} q); "
                     f"text plans parsed {100 * m['text_parse_rate']:.0f} %, "
                     f"text L2 avg {m['text_l2_avg']:.2f} m")
        if m.get("qa_by_kind"):
            lines.append("  QA right / asked by kind: " + ", ".join(
                f"{k} {r}/{n}" for k, (r, n) in m["qa_by_kind"].items()))
    return "\n".join(lines)
