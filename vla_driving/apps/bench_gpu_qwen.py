"""The `bench gpu` parts with an LLM of deployment size: a Qwen2 of Qwen2.5-0.5B's shapes and
random weights (nothing is downloaded), in fp16 and in GPTQ INT4 quantized here by GPTQModel on
random calibration tokens, around the bundle's vision frontend and action head.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from vla_driving.apps.gpu_timing import (Budget, Part, Pipeline, device_label, kernel_name,
                                         load_gptq, quiet, time_pipeline)
from vla_driving.bundle import verify_bundle
from vla_driving.engines.casting_llm import CastingLLM
from vla_driving.engines.gptq import import_gptqmodel
from vla_driving.model.config import VLAConfig
from vla_driving.model.tokenizer import TextTokenizer
from vla_driving.model.vla import VLAModel

# Qwen2.5-0.5B's config.json (hidden 896, 24 layers, 14 heads, 2 KV heads, MLP 4864, tied)
QWEN05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
               num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
               rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
               hidden_act="silu", use_sliding_window=False)
QWEN05B_PARAMS = 494_032_768
INT4_MIN_BUDGET_S = 90    # an INT4 quantization is not started with less time left


def qwen05b_config(num_layers: int = 24):
    """A transformers `Qwen2Config` with Qwen2.5-0.5B's shapes (`num_layers` may be fewer)."""
    from transformers import Qwen2Config

    config = Qwen2Config(**{**QWEN05B, "num_hidden_layers": num_layers})
    config._attn_implementation = "sdpa"
    return config


def random_qwen(config, device: str, dtype: torch.dtype, seed: int) -> nn.Module:
    from transformers import Qwen2ForCausalLM

    torch.manual_seed(seed)
    with torch.device(device):
        model = Qwen2ForCausalLM(config)
    return model.to(dtype).eval()


def qwen_vla(bundle_cfg: VLAConfig, llm: nn.Module, layers: int) -> VLAModel:
    """The bundle's architecture around an LLM of Qwen2.5-0.5B's shapes (random weights)."""
    cfg = VLAConfig.from_dict({**bundle_cfg.to_dict(), "llm": {
        "hidden_size": QWEN05B["hidden_size"], "intermediate_size": QWEN05B["intermediate_size"],
        "num_layers": layers, "num_heads": QWEN05B["num_attention_heads"],
        "num_kv_heads": QWEN05B["num_key_value_heads"], "max_positions": 4096,
        "vocab_size": QWEN05B["vocab_size"], "pretrained_dir": ""}})
    return VLAModel(cfg, llm=CastingLLM(llm))


def _bundle_cfg_and_tokenizer(args) -> tuple[VLAConfig, TextTokenizer]:
    manifest = verify_bundle(Path(args.bundle))
    return (VLAConfig.from_dict(manifest.architecture["vla"]),
            TextTokenizer.load(Path(args.bundle) / manifest.tokenizer))


def part_qwen_fp16(args, device: str, budget: Budget) -> Part:
    dtype = torch.float16 if device != "cpu" else torch.float32
    name = "fp16" if dtype == torch.float16 else "fp32 (CPU: fp16 matmuls are slow there)"
    part = Part(f"Qwen2.5-0.5B shape ({args.qwen_layers} layers)", name, device_label(device))
    cfg, tokenizer = _bundle_cfg_and_tokenizer(args)
    load_start = time.perf_counter()
    llm = random_qwen(qwen05b_config(args.qwen_layers), device, dtype, args.seed)
    model = qwen_vla(cfg, llm, args.qwen_layers).to(device).eval()
    part.figures["params"] = sum(p.numel() for p in llm.parameters())
    pipe = Pipeline(model, tokenizer, device, dtype, args.seed)
    time_pipeline(part, pipe, load_start, args, budget)
    return part


def part_qwen_int4(args, device: str, budget: Budget) -> Part:
    layers = args.int4_layers or args.qwen_layers
    shape_note = (f"{layers} of {QWEN05B['num_hidden_layers']} layers, shapes kept"
                  if layers != QWEN05B["num_hidden_layers"] else "24 layers")
    part = Part(f"Qwen2.5-0.5B shape ({layers} layers)", "GPTQ int4", device_label(device))
    if budget.left() < INT4_MIN_BUDGET_S:
        part.na("quantize s", f"skipped: {budget.left():.0f} s left in --budget-s "
                f"(< {INT4_MIN_BUDGET_S} s)")
        return part
    cfg, tokenizer = _bundle_cfg_and_tokenizer(args)
    gptqmodel = import_gptqmodel()
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_gpu_") as tmp:
        src, out = Path(tmp) / "fp16", Path(tmp) / "int4"
        dtype = torch.float16 if device != "cpu" else torch.bfloat16
        random_qwen(qwen05b_config(layers), device, dtype, args.seed).save_pretrained(src)
        rng = random.Random(args.seed)
        samples = [{"input_ids": [rng.randrange(QWEN05B["vocab_size"])
                                  for _ in range(args.calib_len)],
                    "attention_mask": [1] * args.calib_len} for _ in range(args.calib_samples)]
        # pack on the GPU there: the default CPU packer JIT-compiles a C++ extension first
        pack = {"pack_impl": "gpu"} if device.startswith("cuda") else {}
        qcfg = gptqmodel.QuantizeConfig(bits=4, group_size=128, desc_act=False, sym=True,
                                        offload_to_disk=False, **pack)
        start = time.perf_counter()
        with quiet():
            quant = gptqmodel.GPTQModel.load(str(src), qcfg, device=device)
            quant.quantize(samples, batch_size=min(8, args.calib_samples))
            quant.save(str(out))
        quant_s = time.perf_counter() - start
        jit_note = ("; torch block update, the nvcc-built one disabled"
                    if os.environ.get("GPTQMODEL_DISABLE_GPTQ_CUDA") == "1"
                    and device.startswith("cuda") else "")
        del quant
        part.add("quantize s", quant_s, None, 1,
                 f"GPTQModel GPTQ w4 g128 sym on {device}, {args.calib_samples} x "
                 f"{args.calib_len} random tokens, incl. save ({shape_note}"
                 f"{jit_note})")
        part.figures.update(quantize_s=quant_s, layers=layers)
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        load_start = time.perf_counter()
        llm = load_gptq(out, device, args.kernel, notes)
        model = qwen_vla(cfg, llm, layers).to(device).eval()
        part.llm = f"GPTQ int4 ({kernel_name(llm)}, {model.llm.dtype})".replace("torch.", "")
        pipe = Pipeline(model, tokenizer, device,
                        torch.float16 if device != "cpu" else torch.float32, args.seed)
        time_pipeline(part, pipe, load_start, args, budget)
    part.figures.update(kernel=kernel_name(llm), notes=notes)
    for note in notes:
        part.add("note", note=note)
    return part
