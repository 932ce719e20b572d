"""`vla-train from-bundle --bundle models/default --out runs/shipped`: a trainable checkpoint
from an exported bundle, so a shipped model can be trained further (DAgger, fine-tuning) without
its original checkpoint.

The LLM comes back as float32: a GPTQ INT4 LLM is dequantized (the weights the bundle runs), a
full-precision one is read as is; the encoder, projector, queries and head are the bundle's own
float32 weights. The bundle is verified first.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def checkpoint_from_bundle(bundle: str | Path, out: str | Path) -> Path:
    from vla_driving.bundle import verify_bundle
    from vla_driving.engines.gptq import load_hf_llm
    from vla_driving.engines.gptq_format import dequantize_checkpoint
    from vla_driving.model.checkpoint import save_checkpoint
    from vla_driving.model.config import VLAConfig
    from vla_driving.model.tokenizer import TextTokenizer
    from vla_driving.model.vla import VLAModel
    from vla_driving.policy.bundle_loader import load_policy_weights

    root = Path(bundle)
    manifest = verify_bundle(root)
    llm_dir = root / manifest.llm["dir"]
    fmt = manifest.llm.get("format")
    if fmt == "gptq":
        llm = dequantize_checkpoint(llm_dir, manifest.llm.get("embedding") == "lm_head")
    elif fmt == "hf":
        llm = load_hf_llm(llm_dir, "cpu")
    else:
        raise ValueError(f"{root}: unknown LLM format {fmt!r} (known: gptq, hf)")
    llm.config.__dict__.pop("quantization_config", None)
    llm.config.dtype = "float32"        # trained on as float32, whatever the bundle stored
    model = VLAModel(VLAConfig.from_dict(manifest.architecture["vla"]), llm=llm.float())
    load_policy_weights(model, root, manifest)
    tokenizer = TextTokenizer.load(root / manifest.tokenizer)
    return save_checkpoint(model, tokenizer, out, extra={
        "from_bundle": str(root), "bundle_id": manifest.bundle_id, "llm_precision":
        manifest.llm.get("precision")})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", required=True, help="bundle directory (manifest.json)")
    parser.add_argument("--out", required=True, help="checkpoint directory to write")


def main(args) -> int:
    out = checkpoint_from_bundle(args.bundle, args.out)
    print(f"checkpoint: {out}")
    return 0
