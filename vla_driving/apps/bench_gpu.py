"""`vla-driving bench gpu`: the default bundle on the GPU, then an LLM of deployment size.

Part 1 loads the bundle on the device (encoder: the torch frontend in fp16 on CUDA, fp32 on the
CPU; LLM: GPTQ INT4 through GPTQModel's Triton kernel on CUDA, its torch kernel on the CPU; the
projector and action head in fp32) and times the real-time action path per stage over N cycles
(encoder, LLM + action head, total), greedy decoding (ms per token, tokens/s) and the time from
the start of loading to the first plan. Parts 2 and 3 run the same pipeline with a Qwen2 of
Qwen2.5-0.5B's shapes and random weights (nothing is downloaded), in fp16 and in GPTQ INT4
(quantized here with GPTQModel on random calibration tokens; the time it takes is reported).

Prints one table and writes it with `--json`. Without a CUDA GPU every step runs on the CPU and
the output says so on every row. A stage that cannot run is reported as `n/a: <reason>`; the
rest of the table still comes. `--budget-s` skips what no longer fits, with a note.
"""


from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import time
import traceback
from pathlib import Path

import torch

from vla_driving.apps.bench_gpu_qwen import part_qwen_fp16, part_qwen_int4
from vla_driving.apps.gpu_timing import (NO_GPU, Budget, Part, Pipeline, Row, device_label,
                                         kernel_name, load_gptq, pick_device, short,
                                         time_pipeline)
from vla_driving.apps.tables import format_table
from vla_driving.bundle import verify_bundle
from vla_driving.engines.casting_llm import CastingLLM
from vla_driving.engines.gptq import import_gptqmodel
from vla_driving.engines.gptq_head import set_embedding_from_head
from vla_driving.model.config import VLAConfig
from vla_driving.model.tokenizer import TextTokenizer
from vla_driving.model.vla import VLAModel

KERNELS = ("triton", "torch", "auto")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", default="models/default", help="bundle directory")
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"),
                        help="auto: CUDA when a GPU is visible, else the CPU (marked as such)")
    parser.add_argument("--cycles", type=int, default=500, help="timed planning cycles per model")
    parser.add_argument("--decode-tokens", type=int, default=64,
                        help="greedy tokens per decode run (EOS ignored: a fixed length)")
    parser.add_argument("--decode-runs", type=int, default=3, help="decode runs per model")
    parser.add_argument("--parts", default="bundle,qwen-fp16,qwen-int4",
                        help="comma-separated: bundle, qwen-fp16, qwen-int4")
    parser.add_argument("--qwen-layers", type=int, default=24,
                        help="decoder layers of the Qwen2.5-0.5B-shaped LLM (24 = the real one)")
    parser.add_argument("--int4-layers", type=int, default=0,
                        help="layers of the model quantized for the INT4 part (0 = --qwen-layers)")
    parser.add_argument("--calib-samples", type=int, default=32,
                        help="random calibration sequences for the GPTQ quantization")
    parser.add_argument("--calib-len", type=int, default=64, help="tokens per calibration sequence")
    parser.add_argument("--kernel", default="triton", choices=KERNELS,
                        help="GPTQModel kernel on CUDA (triton; torch; auto may JIT-compile CUDA "
                        "kernels for minutes); the CPU always uses torch; a failure falls back "
                        "to torch, noted")
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="wall-clock budget: parts that no longer fit are skipped, noted")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="", help="also write the figures to this JSON file")


def part_bundle(args, device: str, budget: Budget) -> Part:
    part = Part("default bundle", "GPTQ int4", device_label(device))
    notes: list[str] = []
    import_gptqmodel()  # imported before the clock starts: a process imports it once
    load_start = time.perf_counter()
    root = Path(args.bundle)
    manifest = verify_bundle(root)
    cfg = VLAConfig.from_dict(manifest.architecture["vla"])
    llm = load_gptq(root / manifest.llm["dir"], device, args.kernel, notes)
    if manifest.llm.get("embedding") == "lm_head":   # INT4 head, embedding not stored (issue 21)
        set_embedding_from_head(llm, root / manifest.llm["dir"])
    model = VLAModel(cfg, llm=CastingLLM(llm))
    from safetensors.torch import load_file

    missing, unexpected = model.load_state_dict(load_file(str(root / manifest.weights["file"])),
                                                strict=False)
    missing = [k for k in missing if not k.startswith("llm.")]
    if missing or unexpected:
        raise RuntimeError(f"weights do not fit (missing {missing[:3]}, unexpected "
                           f"{unexpected[:3]})")
    model = model.to(device).eval()
    tokenizer = TextTokenizer.load(root / manifest.tokenizer)
    part.llm = f"GPTQ int4 ({kernel_name(llm)}, {model.llm.dtype})".replace("torch.", "")
    pipe = Pipeline(model, tokenizer, device, torch.float16 if device != "cpu" else torch.float32,
                    args.seed)
    time_pipeline(part, pipe, load_start, args, budget)
    part.figures.update(kernel=kernel_name(llm), notes=notes)
    for note in notes:
        part.add("note", note=note)
    return part


PARTS = {"bundle": part_bundle, "qwen-fp16": part_qwen_fp16, "qwen-int4": part_qwen_int4}


# ----------------------------------------------------------------------------- main


def environment(device: str) -> dict:
    env = {"date": datetime.date.today().isoformat(), "device": device,
           "device_name": (torch.cuda.get_device_name(0) if device.startswith("cuda")
                           else platform.processor() or platform.machine()),
           "cpu_only": not device.startswith("cuda"), "python": platform.python_version(),
           "torch": torch.__version__, "cuda": torch.version.cuda, "cpu_threads":
           torch.get_num_threads()}
    for name in ("transformers", "gptqmodel", "triton", "onnxruntime"):
        try:
            env[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            env[name] = "not installed"
    return env


def run(args, progress=None) -> tuple[list[Row], dict, str]:
    """(rows, figures for JSON, header text); never raises for a failing part.

    `progress(rows, figures, header)` is called after each part (a killed run keeps those)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("USE_HUB_KERNELS", "0")  # hub kernels are downloads; none here
    # GPTQModel's fused CUDA block update is compiled with nvcc on first use (minutes)
    os.environ.setdefault("GPTQMODEL_DISABLE_GPTQ_CUDA", "1")
    budget = Budget(args.budget_s)
    device, message = pick_device(args.device)
    env = environment(device)
    header = (f"vla-driving bench gpu  {env['date']}  {message}\n"
              f"device {env['device_name']} ({device}); torch {env['torch']} (CUDA "
              f"{env['cuda']}), transformers {env['transformers']}, gptqmodel "
              f"{env['gptqmodel']}, triton {env['triton']}, python {env['python']}")
    rows: list[Row] = []
    parts: dict[str, dict] = {}
    for key in [p.strip() for p in args.parts.split(",") if p.strip()]:
        if key not in PARTS:
            raise SystemExit(f"unknown part {key!r} (known: {', '.join(PARTS)})")
        if budget.left() <= 0:
            rows.append(Row(key, "-", device_label(device), "all",
                            note="n/a: skipped, --budget-s spent"))
            continue
        started = time.perf_counter()
        try:
            part = PARTS[key](args, device, budget)
        except Exception as exc:  # one failing part never takes the table with it
            traceback.print_exc()
            part = Part(key, "-", device_label(device))
            part.na("all", short(exc))
        part.figures["wall_s"] = time.perf_counter() - started
        rows.extend(part.rows)
        parts[key] = {"name": part.name, "llm": part.llm, **part.figures,
                      "rows": [r.__dict__ for r in part.rows]}
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        if progress is not None:
            progress(rows, _figures(env, header, parts, args, budget), header)
    return rows, _figures(env, header, parts, args, budget), header


def _figures(env: dict, header: str, parts: dict, args, budget: Budget) -> dict:
    figures = {**env, "header": header, "parts": parts, "budget_s": args.budget_s,
               "wall_s": args.budget_s - budget.left(), "cycles": args.cycles}
    main_part = parts.get("bundle", {})
    for key in ("first_plan_ms", "steady_infer_p50_ms", "steady_infer_p99_ms",
                "decode_tokens_per_s"):
        figures[key] = main_part.get(key)
    return figures


def render(rows: list[Row], header: str, cpu_only: bool) -> str:
    table = format_table(("part", "llm", "device", "stage", "p50", "p99", "n", "note"),
                         [r.cells() for r in rows])
    tail = f"\n{NO_GPU}" if cpu_only else ""
    return f"{header}\n\n{table}{tail}"


def write_json(path: str, rows: list[Row], figures: dict, header: str) -> str:
    text = render(rows, header, figures["cpu_only"])
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps({**figures, "table": text}, indent=1, default=str) + "\n")
    return text


def main(args) -> int:
    rows, figures, header = run(args, lambda *a: write_json(args.json, *a))
    print(write_json(args.json, rows, figures, header))
    failed = [r for r in rows if r.stage == "all" and r.note.startswith("n/a")]
    return 1 if failed and len(failed) == len({r.part for r in rows}) else 0
