"""`vla-driving export build-engines BUNDLE`: build (or reuse) the TensorRT plans of a bundle.

Meant to run on the target (e.g. at install time on an Orin): plans depend on the GPU and the
TensorRT version, so they are built where they run and cached under `<bundle>/engines/`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from vla_driving.apps.export_args import add_data_argument
from vla_driving.engines.config import PRECISIONS, EngineConfig
from vla_driving.apps.tables import format_table, human_bytes
from vla_driving.resources import find_bundle

CALIBRATION_BATCH = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=find_bundle, help="bundle directory")
    parser.add_argument("--precision", nargs="+", default=["fp16"], choices=PRECISIONS,
                        help="plans to build (int8 calibrates on --data frames)")
    parser.add_argument("--cache-dir", default="", help="plan cache (default <bundle>/engines)")
    parser.add_argument("--max-batch", type=int, default=EngineConfig().max_batch,
                        help="largest batch of the optimisation profile")
    add_data_argument(parser)


def calibration_for(manifest, data: str, batches: int):
    """int8 calibration feeds from dataset frames, and the hash that keys the plan on them."""
    import torch

    from vla_driving.model.config import VLAConfig
    from vla_driving.model.vision import normalise_images
    from vla_driving.engines.registry import Calibration
    from vla_driving.apps.samples import load_samples

    cfg = VLAConfig.from_dict(manifest.architecture["vla"])
    samples = load_samples(data, "train", batches * CALIBRATION_BATCH, cfg.vision.image_size,
                           cfg.vision.num_frames)
    feeds = []
    for i in range(0, len(samples) - CALIBRATION_BATCH + 1, CALIBRATION_BATCH):
        chunk = samples[i:i + CALIBRATION_BATCH]
        images = torch.stack([torch.as_tensor(s["images"]) for s in chunk])
        feeds.append({"images": normalise_images(images, cfg.vision).numpy()})
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(f["images"]).tobytes()
                                     for f in feeds)).hexdigest()
    return Calibration(lambda: iter(feeds), digest, CALIBRATION_BATCH)


def main(args: argparse.Namespace) -> int:
    from vla_driving.bundle import ENCODER, ENGINE_CACHE_DIR, BundleError, verify_bundle
    from vla_driving.engines.base import EngineError, TensorSpec
    from vla_driving.engines.registry import ensure_trt_plan

    try:
        manifest = verify_bundle(args.bundle)
    except BundleError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    root = Path(args.bundle)
    cache_dir = Path(args.cache_dir) if args.cache_dir else root / ENGINE_CACHE_DIR
    entry = manifest.engines[ENCODER]
    inputs = [TensorSpec.from_dict(s) for s in entry["inputs"]]
    rows = []
    for precision in args.precision:
        cfg = EngineConfig(precision=precision, max_batch=args.max_batch,
                           opt_batch=1, min_batch=1)
        try:
            calibration = (calibration_for(manifest, args.data, cfg.calibration_batches)
                           if precision == "int8" else None)
            plan, path, built = ensure_trt_plan(root / entry["file"], inputs, cfg, cache_dir,
                                                calibration)
        except EngineError as exc:
            print(f"FAILED ({precision}): {exc}", file=sys.stderr)
            return 1
        rows.append((ENCODER, precision, human_bytes(len(plan)),
                     "built" if built else "cached", path))
    print(format_table(("engine", "precision", "size", "status", "plan"), rows))
    return 0
