"""`vla-train train --preset P --data DIR --out DIR`: run the training stages of a preset."""

from __future__ import annotations

import argparse
import dataclasses
import logging

from .data_source import SYNTHETIC, open_splits
from .presets import PRESETS, get_preset


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="tiny", choices=sorted(PRESETS),
                        help="training preset (see docs/training.md)")
    parser.add_argument("--data", required=True,
                        help=f"generated data directory, or '{SYNTHETIC}[:N]' for a smoke run")
    parser.add_argument("--out", required=True, help="output directory (one sub-dir per stage)")
    parser.add_argument("--stages", nargs="*", default=None,
                        help="run only these stages (default: all, in order)")
    parser.add_argument("--resume", default=None,
                        help="start from this checkpoint directory (e.g. OUT/understand)")
    parser.add_argument("--steps-scale", type=float, default=1.0,
                        help="multiply every stage's steps (quick trials)")
    parser.add_argument("--llm-dir", default=None,
                        help="local Hugging Face causal LM directory (real-LLM recipe)")
    parser.add_argument("--seed", type=int, default=None, help="override the preset's seed")
    parser.add_argument("--teachers", nargs="+", default=None, metavar="CKPT",
                        help="the last stage's meta-action heads learn the mean probabilities "
                        "of these checkpoints instead of the hard labels (e.g. `teacher` runs "
                        "with other seeds)")
    parser.add_argument("--distill", type=float, default=1.0,
                        help="weight of the distillation term with --teachers (default 1.0)")
    parser.add_argument("--history-dropout", type=float, default=None, metavar="P",
                        help="drive stages: share of samples whose acceleration and past are "
                        "hidden (StageConfig.history_dropout)")
    parser.add_argument("--lead", type=float, default=None, metavar="W",
                        help="drive stages: weight of the lead-car loss on the visual tokens "
                        "(LossWeights.lead)")
    parser.add_argument("--lane", type=float, default=None, metavar="W",
                        help="drive stages: weight of the lane loss (the ego's offset and "
                        "heading in its lane) on the visual tokens (LossWeights.lane)")
    parser.add_argument("--ema-decay", type=float, default=None, metavar="D",
                        help="drive stages: save and validate an exponential moving average of "
                        "the weights with decay D (StageConfig.ema_decay)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="torch CPU threads (TrainConfig.threads; more than the free cores "
                        "makes every step wait on its slowest thread)")
    parser.add_argument("--stop-after", type=int, default=0, metavar="N",
                        help="end the drive stage after N steps, on the learning-rate schedule "
                        "of its full length (reproduces a run stopped early)")


def configure(args) -> object:
    cfg = get_preset(args.preset)
    if args.steps_scale != 1.0:
        cfg = dataclasses.replace(cfg, stages=[
            dataclasses.replace(s, steps=max(1, round(s.steps * args.steps_scale)))
            for s in cfg.stages])
    if args.llm_dir:
        llm = dataclasses.replace(cfg.model.llm, pretrained_dir=args.llm_dir)
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, llm=llm))
    if args.seed is not None:
        cfg = dataclasses.replace(cfg, seed=args.seed)
    if getattr(args, "threads", None) is not None:
        cfg = dataclasses.replace(cfg, threads=args.threads)
    if getattr(args, "stop_after", 0):
        cfg = dataclasses.replace(cfg, stages=[
            dataclasses.replace(s, stop_after=args.stop_after) if s.name == "drive" else s
            for s in cfg.stages])
    cfg = dataclasses.replace(cfg, stages=[
        _with_drive_options(s, args.history_dropout, args.lead, args.ema_decay,
                            getattr(args, "lane", None))
        for s in cfg.stages])
    if args.teachers:   # the last drive stage learns from the teachers
        k = max(i for i, s in enumerate(cfg.stages) if "drive" in s.tasks)
        drive = cfg.stages[k]
        weights = dataclasses.replace(drive.weights, meta=0.0, distill=args.distill)
        drive = dataclasses.replace(drive, teachers=list(args.teachers), weights=weights)
        cfg = dataclasses.replace(cfg, stages=[*cfg.stages[:k], drive, *cfg.stages[k + 1:]])
    return cfg


def _with_drive_options(stage, history_dropout: float | None = None,
                        lead: float | None = None, ema_decay: float | None = None,
                        lane: float | None = None):
    """`stage` with the options given, when it trains the drive task."""
    if "drive" not in stage.tasks:
        return stage
    if history_dropout is not None:
        stage = dataclasses.replace(stage, history_dropout=history_dropout)
    if lead is not None:
        stage = dataclasses.replace(stage, weights=dataclasses.replace(stage.weights, lead=lead))
    if lane is not None:
        stage = dataclasses.replace(stage, weights=dataclasses.replace(stage.weights, lane=lane))
    if ema_decay is not None:
        stage = dataclasses.replace(stage, ema_decay=ema_decay)
    return stage


def main(args) -> int:
    from .train import train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    cfg = configure(args)
    vision = cfg.model.vision
    train_set, val_set = open_splits(args.data, vision.image_size, vision.num_frames,
                                     vision.frame_interval_s)
    result = train(cfg, train_set, val_set, args.out, resume_from=args.resume,
                   stages=args.stages)
    for name, r in result["results"].items():
        loss = r["loss"]
        if loss:
            print(f"{name}: {len(loss)} steps, loss {loss[0]:.3f} -> {loss[-1]:.3f}, "
                  f"{r['seconds']:.0f} s")
        grpo = r.get("metrics", {}).get("grpo")
        if grpo:
            b, a = grpo["before"], grpo["after"]
            print(f"{name}: fixed-prompt reward {_num(b['reward'])} -> {_num(a['reward'])}, "
                  f"parse rate {_num(b['parse_rate'])} -> {_num(a['parse_rate'])}, "
                  f"QA {_num(b['qa_accuracy'])} -> {_num(a['qa_accuracy'])}")
    last = list(result["results"])[-1] if result["results"] else cfg.stages[-1].name
    print(f"total {result['seconds']:.0f} s; checkpoint: {args.out}/{last}")
    return 0


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
