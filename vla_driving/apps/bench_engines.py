"""`vla-driving bench engines --bundle B`: encoder backends, LLM size, INT4 quality and decode
speed, one run.

Prints one table (and writes it as JSON with --json). Every figure is a ratio of two things
measured side by side here; absolute times are only meaningful on the device named in the output.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

from vla_driving.apps.tables import format_table, human_bytes
from vla_driving.resources import find_bundle

TARGET_ORT_SPEEDUP = 1.5
TARGET_INT4_SHRINK = 3.5
TARGET_L2_REL = 0.02
TARGET_META_POINTS = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=find_bundle, required=True, help="bundle directory")
    parser.add_argument("--json", default="", help="also write the figures to this JSON file")
    parser.add_argument("--iters", type=int, default=50, help="timed calls per backend")
    parser.add_argument("--batch", type=int, default=1, help="encoder batch size")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for torch and ONNX Runtime alike")
    parser.add_argument("--data", default="", help="held-out data dir for fp32 vs INT4 quality")
    parser.add_argument("--split", default="val", choices=("train", "val", "all"),
                        help="split of --data to use (all: a held-out data dir)")
    parser.add_argument("--samples", type=int, default=64, help="held-out frames for quality")
    parser.add_argument("--checkpoint", default="",
                        help="the fp32 checkpoint the bundle was exported from (quality reference)")
    parser.add_argument("--decode-tokens", type=int, default=64,
                        help="greedy tokens per decode run (EOS ignored), fp32 vs INT4")
    parser.add_argument("--decode-runs", type=int, default=5, help="decode runs per model")
    parser.add_argument("--text-frames", type=int, default=16,
                        help="frames whose greedy plan text INT4 is compared with fp32")


def _encoder_rows(args, results: dict) -> list[tuple]:
    import numpy as np
    import torch

    from vla_driving.policy.bundle_loader import load_bundle
    from vla_driving.engines.config import EngineConfig
    from vla_driving.engines.torch_engine import TorchEngine

    torch.set_num_threads(args.threads)
    cfg = EngineConfig(backend="onnxruntime", ort_providers=["cpu"],
                       intra_op_threads=args.threads)
    loaded = load_bundle(args.bundle, cfg, device="cpu")
    spec = loaded.encoder.inputs[0]
    images = np.random.default_rng(0).standard_normal(
        (args.batch, *spec.shape[1:])).astype(np.float32)
    eager = TorchEngine(loaded.torch_frontend, loaded.encoder.inputs, loaded.encoder.outputs)
    from vla_driving.export.bench_lib import interleaved_latency

    ms = interleaved_latency({"torch": lambda: eager.run({spec.name: images}),
                              "onnxruntime": lambda: loaded.encoder.run({spec.name: images})},
                             args.iters)
    speedup = ms["torch"] / ms["onnxruntime"]
    results["encoder_ms"] = ms
    results["encoder_ort_speedup"] = speedup
    return [("encoder latency torch (CPU)", f"{ms['torch']:.2f} ms", ""),
            ("encoder latency ONNX Runtime (CPU)", f"{ms['onnxruntime']:.2f} ms", ""),
            ("ORT speed-up vs torch", f"{speedup:.2f}x",
             _verdict(speedup >= TARGET_ORT_SPEEDUP, f">= {TARGET_ORT_SPEEDUP}x"))]


def _gpu_rows(args, manifest, results: dict) -> list[tuple]:
    """TensorRT fp16 vs ONNX Runtime CUDA for the encoder, where a GPU and both exist."""
    import numpy as np
    import torch

    from vla_driving.bundle import ENCODER, ENGINE_CACHE_DIR
    from vla_driving.engines.base import EngineError, TensorSpec
    from vla_driving.export.bench_lib import interleaved_latency
    from vla_driving.engines.config import EngineConfig
    from vla_driving.engines.ort_engine import OrtEngine
    from vla_driving.engines.registry import ensure_trt_plan
    from vla_driving.engines.trt_engine import TrtEngine

    if not torch.cuda.is_available():
        return [("encoder TensorRT fp16 vs ORT CUDA", "n/a (no CUDA GPU here)", "")]
    root, entry = Path(args.bundle), manifest.engines[ENCODER]
    inputs = [TensorSpec.from_dict(s) for s in entry["inputs"]]
    try:
        plan, _, _ = ensure_trt_plan(root / entry["file"], inputs, EngineConfig(precision="fp16"),
                                     root / ENGINE_CACHE_DIR)
        trt_engine = TrtEngine(plan)
        ort_cuda = OrtEngine(root / entry["file"], EngineConfig(ort_providers=["cuda"]))
    except (EngineError, ImportError) as exc:
        return [("encoder TensorRT fp16 vs ORT CUDA", f"n/a ({exc})", "")]
    images = np.zeros((args.batch, *inputs[0].shape[1:]), dtype=np.float32)
    feeds = {inputs[0].name: images}
    ms = interleaved_latency({"tensorrt_fp16": lambda: trt_engine.run(feeds),
                              "ort_cuda": lambda: ort_cuda.run(feeds)}, args.iters)
    results["encoder_gpu_ms"] = ms
    return [("encoder TensorRT fp16 (GPU)", f"{ms['tensorrt_fp16']:.3f} ms", ""),
            ("encoder ORT CUDA (GPU)", f"{ms['ort_cuda']:.3f} ms",
             f"TensorRT {ms['ort_cuda'] / ms['tensorrt_fp16']:.2f}x faster")]


def _llm_rows(args, manifest, results: dict) -> list[tuple]:
    from vla_driving.export.bench_lib import llm_dir_bytes, llm_weight_bytes

    if manifest.llm.get("format") != "gptq":
        return [("LLM size", "bundle LLM is not GPTQ", "")]
    llm_dir, bits = Path(args.bundle) / manifest.llm["dir"], manifest.llm["bits"]
    from_head = manifest.llm.get("embedding") == "lm_head"
    sizes = {**llm_weight_bytes(llm_dir, bits), **llm_dir_bytes(llm_dir, bits, from_head)}
    weights = sizes["fp16_bytes"] / sizes["int4_file_bytes"]
    whole = sizes["fp16_dir_bytes"] / sizes["int4_dir_bytes"]
    layers = sizes["quantized_layers_fp16_bytes"] / sizes["quantized_layers_int4_bytes"]
    sizes.update(whole_dir_ratio=whole, weights_ratio=weights, layers_ratio=layers)
    results["llm_bytes"] = sizes
    head = ("LM head INT4, embedding rebuilt from it" if from_head
            else "tied embedding/LM head 16-bit")
    return [("LLM weights fp32 / fp16", f"{human_bytes(sizes['fp32_bytes'])} / "
                                        f"{human_bytes(sizes['fp16_bytes'])}", head),
            ("LLM INT4 safetensors vs fp16 weights", human_bytes(sizes["int4_file_bytes"]),
             f"{weights:.2f}x smaller"),
            ("whole llm/ dir fp16 export -> INT4", f"{human_bytes(sizes['fp16_dir_bytes'])} -> "
                                                   f"{human_bytes(sizes['int4_dir_bytes'])}",
             _verdict(whole >= TARGET_INT4_SHRINK, f">= {TARGET_INT4_SHRINK}x ({whole:.2f}x)")),
            ("quantized layers fp16 -> INT4", f"{layers:.2f}x smaller", "")]


def _quality_rows(args, results: dict) -> list[tuple]:
    from vla_driving.model.checkpoint import load_checkpoint
    from vla_driving.policy.bundle_loader import load_bundle
    from vla_driving.export.bench_lib import planning_quality
    from vla_driving.engines.config import EngineConfig
    from vla_driving.apps.samples import load_samples

    if not (args.data and args.checkpoint):
        return [("planning quality fp32 vs INT4", "skipped (needs --data and --checkpoint)", "")]
    fp32, tokenizer = load_checkpoint(args.checkpoint)
    samples = load_samples(args.data, args.split, args.samples, fp32.cfg.vision.image_size,
                           fp32.cfg.vision.num_frames)
    int4 = load_bundle(args.bundle, EngineConfig(backend="onnxruntime"), device="cpu")
    ref = planning_quality(fp32, tokenizer, samples)
    got = planning_quality(int4.model, int4.tokenizer, samples)
    l2_rel = abs(got["l2_m"] - ref["l2_m"]) / max(ref["l2_m"], 1e-9)
    points = abs(got["meta_accuracy"] - ref["meta_accuracy"]) * 100.0
    results["quality"] = {"fp32": ref, "int4": got, "l2_rel_diff": l2_rel,
                          "meta_points_diff": points}
    rows = [("held-out frames", f"{ref['frames']} ({args.data}, {args.split})", ""),
            ("L2 fp32 / INT4", f"{ref['l2_m']:.3f} / {got['l2_m']:.3f} m",
             _verdict(l2_rel <= TARGET_L2_REL, f"within {TARGET_L2_REL:.0%} ({l2_rel:.2%})")),
            ("meta-action acc fp32 / INT4",
             f"{ref['meta_accuracy']:.3f} / {got['meta_accuracy']:.3f}",
             _verdict(points <= TARGET_META_POINTS, f"within 1 point ({points:.2f})"))]
    return rows + _text_rows(args, fp32, int4, tokenizer, samples, results)


def _text_rows(args, fp32, int4, tokenizer, samples, results: dict) -> list[tuple]:
    """Greedy decoding, fp32 checkpoint vs the bundle's INT4 LLM: tokens/s side by side
    (token by token in turn) and how often the INT4 plan text equals the fp32 one."""
    from vla_driving.export.bench_lib import interleaved_decode, plan_text_agreement

    tps = interleaved_decode({"fp32": fp32, "int4": int4.model}, tokenizer, samples,
                             args.decode_tokens, args.decode_runs)
    agree = plan_text_agreement(fp32, int4.model, tokenizer, samples[:args.text_frames])
    results["decode_tokens_per_s"] = tps
    results["plan_text_agreement"] = agree
    return [("decode tok/s fp32 / INT4 (CPU)", f"{tps['fp32']:.0f} / {tps['int4']:.0f}",
             f"INT4 {tps['int4'] / tps['fp32']:.2f}x fp32; {args.decode_tokens} tokens x "
             f"{args.decode_runs} runs, median, in turn"),
            ("plan text INT4 == fp32",
             f"{round(agree['same_text'] * agree['frames'])} of {agree['frames']} frames",
             f"tokens equal up to the first difference: {agree['prefix_tokens']:.2f}")]


def _verdict(ok: bool, target: str) -> str:
    return f"{'meets' if ok else 'MISSES'} target {target}"


def main(args: argparse.Namespace) -> int:
    import torch

    from vla_driving.bundle import verify_bundle

    manifest = verify_bundle(args.bundle)
    device = (torch.cuda.get_device_name(0) if torch.cuda.is_available()
              else f"CPU {platform.processor() or platform.machine()}, {args.threads} thread(s)")
    results = {"bundle": manifest.name, "device": device, "batch": args.batch}
    rows = _encoder_rows(args, results) + _gpu_rows(args, manifest, results)
    rows += _llm_rows(args, manifest, results)
    rows += _quality_rows(args, results)
    print(f"bundle {manifest.name} on {device}")
    print(format_table(("measure", "value", "vs target"), rows))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    return 0
