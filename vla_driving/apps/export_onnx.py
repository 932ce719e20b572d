"""`vla-driving export onnx --checkpoint DIR --out FILE`: frontend to ONNX, checked on frames."""

from __future__ import annotations

import argparse
from pathlib import Path

from vla_driving.apps.export_args import add_data_argument
from vla_driving.apps.tables import format_table, human_bytes

CHECK_SAMPLES = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="trained checkpoint directory")
    parser.add_argument("--out", required=True, help="ONNX file to write")
    parser.add_argument("--check-samples", type=int, default=CHECK_SAMPLES,
                        help="validation frames for the ONNX Runtime vs torch check")
    add_data_argument(parser)


def main(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from vla_driving.model.checkpoint import load_checkpoint
    from vla_driving.export.pipeline import ONNX_ABS_TOL, ONNX_REL_TOL, export_onnx
    from vla_driving.apps.samples import load_samples

    model, _ = load_checkpoint(args.checkpoint)
    samples = load_samples(args.data, "val", args.check_samples, model.cfg.vision.image_size,
                           model.cfg.vision.num_frames)
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="vla_onnx_") as tmp:
        entry, agreement = export_onnx(model, samples, Path(tmp))
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / entry["file"]), out)
    ok = agreement.within(ONNX_ABS_TOL, ONNX_REL_TOL)
    print(format_table(("file", "size", "input", "output", "max abs err", "max rel err", "check"), [
        (out, human_bytes(out.stat().st_size), entry["inputs"][0]["shape"],
         entry["outputs"][0]["shape"], f"{agreement.max_abs:.3g}", f"{agreement.max_rel:.3g}",
         "passed" if ok else "FAILED")]))
    print(f"(ONNX Runtime vs torch on {agreement.samples} frames of {args.data})")
    return 0 if ok else 1
