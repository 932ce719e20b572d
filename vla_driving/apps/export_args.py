"""Arguments shared by the export CLIs (data source, GPTQ settings)."""

from __future__ import annotations

import argparse

from vla_driving.engines.gptq import GptqSettings

DEFAULT_DATA = "synthetic:64"


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=DEFAULT_DATA,
                        help="generated data dir (from `vla-train data generate`) for calibration "
                             f"and checks, or synthetic[:N] (default {DEFAULT_DATA}); needs the "
                             "train extra")


def add_gptq_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = GptqSettings()
    parser.add_argument("--bits", type=int, default=defaults.bits, help="GPTQ weight bits")
    parser.add_argument("--group-size", type=int, default=defaults.group_size,
                        help="GPTQ group size (must divide the LLM widths)")
    parser.add_argument("--calibration-samples", type=int, default=defaults.calibration_samples,
                        help="driving-data frames for GPTQ calibration")
    parser.add_argument("--lm-head", choices=("int4", "full"), default=defaults.lm_head,
                        help="int4: quantize the LM head too; a tied input embedding is then "
                             "rebuilt from it at load, not stored (docs/export.md). full: head "
                             f"and embedding stay 16-bit (default {defaults.lm_head})")


def gptq_settings(args: argparse.Namespace) -> GptqSettings:
    return GptqSettings(bits=args.bits, group_size=args.group_size,
                        calibration_samples=args.calibration_samples, lm_head=args.lm_head)
