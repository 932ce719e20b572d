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
