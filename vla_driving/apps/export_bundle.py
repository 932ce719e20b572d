"""`vla-driving export bundle --checkpoint DIR --out BUNDLE`: onnx + gptq + manifest + verify."""

from __future__ import annotations

import argparse
from pathlib import Path

from vla_driving.constants import FRAME_INTERVAL_S
from vla_driving.apps.export_args import add_data_argument, add_gptq_arguments, gptq_settings
from vla_driving.apps.tables import format_table, manifest_table

CHECK_SAMPLES = 16
STEPS = 4


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="trained checkpoint directory")
    parser.add_argument("--out", required=True, help="new bundle directory")
    parser.add_argument("--name", default="", help="bundle name (default: checkpoint dir name)")
    parser.add_argument("--cameras", nargs="+", default=None,
                        help="camera names in model order (default: bev_near bev_far)")
    parser.add_argument("--check-samples", type=int, default=CHECK_SAMPLES,
                        help="validation frames for the ONNX vs torch check")
    parser.add_argument("--no-quantize", action="store_true",
                        help="keep the LLM in full precision (no GPTQ)")
    add_data_argument(parser)
    add_gptq_arguments(parser)


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from vla_driving.model.checkpoint import read_config
    from vla_driving.export.pipeline import ExportSettings, build_bundle
    from vla_driving.apps.samples import load_samples

    vision = read_config(args.checkpoint)["vla"]["vision"]
    size, frames = vision["image_size"], vision["num_frames"]
    interval = vision.get("frame_interval_s", FRAME_INTERVAL_S)   # checkpoints before the field
    settings = ExportSettings(quantize=not args.no_quantize, gptq=gptq_settings(args))
    calibration = load_samples(args.data, "train", settings.gptq.calibration_samples, size,
                               frames, interval)
    check = load_samples(args.data, "val", args.check_samples, size, frames, interval)
    with tqdm(total=STEPS, desc="export bundle", unit="step") as bar:
        def step(text: str) -> None:
            bar.set_postfix_str(text)
            bar.update(1)

        report = build_bundle(args.checkpoint, args.out, calibration, check, settings,
                              name=args.name, cameras=args.cameras, progress=step)
    manifest, agreement = report.manifest, report.agreement
    print(manifest_table(manifest))
    print()
    print(format_table(("check", "result"), [
        ("ONNX Runtime vs torch", f"max abs {agreement.max_abs:.3g}, max rel "
                                  f"{agreement.max_rel:.3g} on {agreement.samples} frames "
                                  f"of {args.data} (val)"),
        ("GPTQ calibration", f"{manifest.checks['gptq_calibration_samples']} frames of "
                             f"{args.data} (train)"),
        ("precisions", ", ".join(f"{k} {v}" for k, v in manifest.precision.items())),
        ("manifest + sha256", f"verified, {len(manifest.files)} files"),
    ]))
    print(f"\nbundle written to {Path(args.out).resolve()}")
    return 0
