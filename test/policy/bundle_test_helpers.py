"""Bundles for the bundle tests, exported from the tiny checkpoint of test/engines' helpers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines"))

from export_test_helpers import GROUP_SIZE, make_checkpoint, tiny_samples  # noqa: E402

from vla_driving.export.pipeline import ExportSettings, build_bundle  # noqa: E402
from vla_driving.engines.gptq import GptqSettings  # noqa: E402


def export_tiny_bundle(root: Path, quantize: bool):
    """(bundle dir, samples) of a freshly exported tiny bundle under `root`."""
    samples = tiny_samples(12)
    checkpoint = make_checkpoint(root / "ckpt")
    settings = ExportSettings(quantize=quantize, gptq=GptqSettings(group_size=GROUP_SIZE))
    report = build_bundle(checkpoint, root / "bundle", samples, samples[:8], settings)
    return root / "bundle", samples, report
