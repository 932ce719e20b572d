"""Measurements behind `vla-driving bench engines`: ratios taken side by side in one process.

Timings interleave the backends call by call, so machine noise hits both alike; sizes are file
bytes; quality compares the fp32 checkpoint with the bundle on the same held-out frames.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np

MS = 1000.0
WARMUP = 5
BYTES_FP32, BYTES_FP16 = 4, 2
QUANT_SUFFIXES = (".qweight", ".qzeros", ".scales", ".g_idx")


def interleaved_latency(runs: dict[str, Callable[[], object]], iters: int) -> dict[str, float]:
    """Median milliseconds of each callable, calling them in turn `iters` times."""
    for fn in runs.values():
        for _ in range(WARMUP):
            fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(iters):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * MS)
    return {name: statistics.median(t) for name, t in times.items()}


def llm_weight_bytes(llm_dir: Path, bits: int) -> dict[str, float]:
    """Bytes of the int4 LLM files vs the same model in fp32 / fp16, whole and quantized layers."""
    from safetensors import safe_open

    quant_bytes, quant_params, other_params, total_bytes = 0, 0, 0, 0
    for path in sorted(llm_dir.glob("*.safetensors")):
        total_bytes += path.stat().st_size
        with safe_open(str(path), "pt") as fh:
            for name in fh.keys():
                t = fh.get_tensor(name)
                nbytes = t.numel() * t.element_size()
                if name.endswith(QUANT_SUFFIXES):
                    quant_bytes += nbytes
                    if name.endswith(".qweight"):
                        quant_params += t.shape[0] * (32 // bits) * t.shape[1]
                else:
                    other_params += t.numel()
    params = quant_params + other_params
    return {"params": params, "quantized_params": quant_params,
            "fp32_bytes": params * BYTES_FP32, "fp16_bytes": params * BYTES_FP16,
            "int4_file_bytes": total_bytes,
            "quantized_layers_fp16_bytes": quant_params * BYTES_FP16,
            "quantized_layers_int4_bytes": quant_bytes}


FP16_DIR_SKIPS = ("quantize_config.json",)  # GPTQModel's; an fp16 export has no such file


def llm_dir_bytes(llm_dir: Path, bits: int, embedding_from_head: bool = False
                  ) -> dict[str, int]:
    """Every file of the INT4 LLM dir vs the fp16 export of the same LLM, written the same way
    (safetensors of the dequantized weights in fp16, one copy of a tied embedding, config
    without `quantization_config`, the same tokenizer and generation files)."""
    import json
    import tempfile

    import torch
    from safetensors.torch import load_file, save_file

    from vla_driving.engines.gptq_format import dequantized_state_dict
    from vla_driving.engines.gptq_head import EMBED_KEY, HEAD_KEY

    llm_dir = Path(llm_dir)
    files = [p for p in sorted(llm_dir.rglob("*")) if p.is_file()]
    tensors: dict[str, torch.Tensor] = {}
    for path in files:
        if path.suffix == ".safetensors":
            tensors.update(load_file(str(path)))
    state = dequantized_state_dict(tensors, bits)
    if embedding_from_head:   # the tie: one matrix, saved under the embedding's name
        state[EMBED_KEY] = state.pop(HEAD_KEY)
    config = json.loads((llm_dir / "config.json").read_text())
    config.pop("quantization_config", None)
    config["tie_word_embeddings"] = config.get("tie_word_embeddings") or embedding_from_head
    fp16 = 0
    with tempfile.TemporaryDirectory(prefix="vla_fp16_") as tmp:
        target = Path(tmp) / "model.safetensors"
        save_file({k: v.to(torch.float16) if v.is_floating_point() else v
                   for k, v in state.items()}, str(target), metadata={"format": "pt"})
        fp16 += target.stat().st_size
    fp16 += len((json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    fp16 += sum(p.stat().st_size for p in files if p.suffix != ".safetensors"
                and p.name not in FP16_DIR_SKIPS + ("config.json",))
    return {"int4_dir_bytes": sum(p.stat().st_size for p in files), "fp16_dir_bytes": fp16}


def decode_steps(model, tokenizer, sample: dict, tokens: int):
    """Yields the seconds of each greedy token after a frame's planning prefix (KV cache, EOS
    ignored), the loop `generate_plan_texts` runs: LM head, argmax, embedding, decoder step.
    A generator, so `interleaved_decode` can alternate models token by token."""
    import time

    import torch

    from vla_driving.model.inference import build_prefix, driving_prompts
    from vla_driving.model.llm import decoder_step
    from vla_driving.model.vision import normalise_images

    one = lambda key: torch.as_tensor(sample[key]).unsqueeze(0)  # noqa: E731
    images = normalise_images(one("images"), model.cfg.vision)
    prompt = driving_prompts(tokenizer, one("ego"), one("past"), [sample["instruction"]])[0]
    with torch.no_grad():
        prefix = build_prefix(model, images, one("ego"), one("past"), prompt, True)
        lm_head = model.llm.get_output_embeddings()
        hidden, cache = decoder_step(model.llm, prefix.embeds, use_cache=True)
    for _ in range(tokens):
        # no_grad per token, never across a yield: interleaved generators would restore each
        # other's saved grad mode and leave autograd off in the caller (training after a bench)
        with torch.no_grad():
            start = time.perf_counter()
            token = int(lm_head(hidden[:, -1]).argmax(-1))
            emb = model.embed_tokens(torch.tensor([[token]]))
            hidden, cache = decoder_step(model.llm, emb, cache=cache, use_cache=True)
            seconds = time.perf_counter() - start
        yield seconds


def interleaved_decode(models: dict, tokenizer, samples: list[dict], tokens: int,
                       runs: int) -> dict[str, float]:
    """Greedy tokens per second of each model (median token), the models taking turns token by
    token on the same frames, so machine load hits them alike; one warm-up run each first."""
    for model in models.values():
        list(decode_steps(model, tokenizer, samples[0], min(tokens, 4)))
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for i in range(runs):
        sample = samples[i % len(samples)]
        steps = {n: decode_steps(m, tokenizer, sample, tokens) for n, m in models.items()}
        for times in zip(*steps.values()):
            for name, t in zip(steps, times):
                seconds[name].append(t)
    return {name: 1.0 / statistics.median(t) for name, t in seconds.items()}


def plan_text_agreement(reference, model, tokenizer, samples: list[dict]) -> dict[str, float]:
    """Greedy plan texts of `model` vs `reference` on the same frames: the share that are equal
    and the mean share of tokens equal up to the first difference."""
    import torch

    from vla_driving.model.inference import generate_plan_texts

    same, prefix = [], []
    for s in samples:
        args = [torch.as_tensor(s[k]).unsqueeze(0) for k in ("images", "ego", "past")]
        want, got = (generate_plan_texts(m, tokenizer, *args, [s["instruction"]])[0]
                     for m in (reference, model))
        a, b = tokenizer.encode(want), tokenizer.encode(got)
        n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        same.append(want == got)
        prefix.append(n / max(len(a), len(b), 1))
    return {"frames": len(samples), "same_text": float(np.mean(same)),
            "prefix_tokens": float(np.mean(prefix))}


def planning_quality(model, tokenizer, samples: list[dict], batch: int = 8) -> dict[str, float]:
    """Average L2 (m) over the waypoints and meta-action weighted accuracy against the labels."""
    import torch

    from vla_driving.meta_action import MetaAction, weighted_accuracy
    from vla_driving.model.inference import plan_actions

    l2, pred_meta, true_meta = [], [], []
    for i in range(0, len(samples), batch):
        chunk = samples[i:i + batch]
        stack = lambda key: torch.stack([torch.as_tensor(s[key]) for s in chunk])  # noqa: E731
        out = plan_actions(model, tokenizer, stack("images"), stack("ego"), stack("past"),
                           [s["instruction"] for s in chunk])
        err = (out.waypoints - stack("waypoints")).norm(dim=-1)
        l2.extend(err.mean(dim=1).tolist())
        for s, sp, st in zip(chunk, out.speed_logits.argmax(-1), out.steering_logits.argmax(-1)):
            pred_meta.append(MetaAction.from_indices(int(sp), int(st)))
            true_meta.append(MetaAction.from_indices(int(s["speed_level"]),
                                                     int(s["steering_level"])))
    return {"l2_m": float(np.mean(l2)), "meta_accuracy": weighted_accuracy(pred_meta, true_meta),
            "frames": len(l2)}
