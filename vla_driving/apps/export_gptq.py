"""`vla-driving export gptq --checkpoint DIR --out DIR`: the LLM to GPTQ (HF format)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from vla_driving.apps.export_args import add_data_argument, add_gptq_arguments, gptq_settings
from vla_driving.apps.tables import format_table, human_bytes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="trained checkpoint directory")
    parser.add_argument("--out", required=True, help="directory for the quantized LLM")
    add_data_argument(parser)
    add_gptq_arguments(parser)


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("*.safetensors"))


def main(args: argparse.Namespace) -> int:
    from vla_driving.model.checkpoint import load_checkpoint
    from vla_driving.export.pipeline import calibration_token_ids, save_hf_llm
    from vla_driving.engines.gptq import quantize_llm
    from vla_driving.apps.samples import load_samples

    settings = gptq_settings(args)
    model, tokenizer = load_checkpoint(args.checkpoint)
    samples = load_samples(args.data, "train", settings.calibration_samples,
                           model.cfg.vision.image_size, model.cfg.vision.num_frames)
    ids = calibration_token_ids(tokenizer, samples, model.cfg.llm.max_positions)
    with tempfile.TemporaryDirectory(prefix="vla_llm_") as tmp:
        save_hf_llm(model, tokenizer, Path(tmp))
        fp_bytes = _size(Path(tmp))
        qc = quantize_llm(tmp, args.out, ids, settings)
    out = Path(args.out)
    print(format_table(("llm", "weights", "bits", "group size", "calibration frames"), [
        ("fp32 (input)", human_bytes(fp_bytes), 32, "-", "-"),
        (f"gptq ({out})", human_bytes(_size(out)), qc["bits"], qc["group_size"], len(ids))]))
    if qc["embedding"] == "lm_head":
        print("the tied input embedding is not stored (INT4 LM head): load with "
              "engines.gptq.load_gptq_llm(DIR, embedding_from_head=True); --lm-head full keeps "
              "the standard layout")
    return 0
