"""Held-out figures of a checkpoint vs constant velocity on a data dir.

    vla-train evaluate --checkpoint runs/default/drive --data data/heldout

Prints L2 at 1/2/3 s (UniAD convention) for the model's action-query path and for the
constant-velocity baseline on the same frames, meta-action weighted accuracy, QA accuracy and
the text path's parse rate; `--json` writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from vla_driving.model.checkpoint import load_checkpoint

from .data_source import SYNTHETIC, open_all, open_splits
from .validate import format_metrics, validate

# The bar: average L2 at most half of constant velocity's, weighted accuracy >= 85 %.
L2_RATIO_TARGET = 0.5
META_ACCURACY_TARGET = 0.85


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="checkpoint directory")
    parser.add_argument("--data", required=True,
                        help=f"data dir (every bag under it is used) or '{SYNTHETIC}[:N]'")
    parser.add_argument("--samples", type=int, default=100_000, help="at most this many frames")
    parser.add_argument("--text-samples", type=int, default=16,
                        help="frames decoded with the text path (QA and text plans)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--json", default=None, help="also write the metrics to this file")


def verdict(metrics: dict) -> dict:
    ratio = metrics["l2"]["avg"] / max(1e-9, metrics["l2_constant_velocity"]["avg"])
    acc = metrics["meta"]["weighted_accuracy"]
    return {"l2_ratio_vs_constant_velocity": ratio, "l2_target_met": ratio <= L2_RATIO_TARGET,
            "meta_target_met": acc >= META_ACCURACY_TARGET}


def main(args) -> int:
    torch.set_num_threads(args.threads)
    model, tokenizer = load_checkpoint(args.checkpoint)
    vision = model.cfg.vision
    if args.data.split(":")[0] == SYNTHETIC:
        dataset = open_splits(args.data, vision.image_size, vision.num_frames,
                              vision.frame_interval_s)[1]
    else:
        dataset = open_all(args.data, vision.image_size, vision.num_frames,
                           vision.frame_interval_s)
    start = time.perf_counter()
    metrics = validate(model, tokenizer, dataset, args.samples, args.text_samples,
                       args.batch_size)
    metrics.update(verdict(metrics), seconds=time.perf_counter() - start,
                   checkpoint=str(args.checkpoint), data=str(args.data))
    print(format_metrics("held-out", metrics))
    print(f"  avg L2 / constant velocity = {metrics['l2_ratio_vs_constant_velocity']:.2f} "
          f"(target <= {L2_RATIO_TARGET}: {'met' if metrics['l2_target_met'] else 'NOT met'}); "
          f"meta-action target >= {META_ACCURACY_TARGET:.0%}: "
          f"{'met' if metrics['meta_target_met'] else 'NOT met'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(metrics, fh, indent=2)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="vla-train evaluate",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
