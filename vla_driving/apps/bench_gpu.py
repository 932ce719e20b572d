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
import contextlib
import datetime
import importlib.metadata
import io
import json
import os
import platform
import random
import statistics
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from vla_driving.apps.tables import format_table
from vla_driving.bundle import verify_bundle
from vla_driving.engines.casting_llm import CastingLLM
from vla_driving.engines.gptq import import_gptqmodel
from vla_driving.engines.gptq_head import set_embedding_from_head
from vla_driving.model.config import VLAConfig
from vla_driving.model.inference import build_prefix, driving_prompts
from vla_driving.model.llm import decoder_step
from vla_driving.model.tokenizer import TextTokenizer
from vla_driving.model.vision import normalise_images
from vla_driving.model.vla import VLAModel

NO_GPU = "no CUDA GPU: CPU figures, marked as such"
MS = 1000.0
WARMUP_CYCLES = 10
INPUT_SETS = 8            # cycles rotate among this many random inputs
INSTRUCTION = "keep the lane and follow the road"
# Qwen2.5-0.5B's config.json (hidden 896, 24 layers, 14 heads, 2 KV heads, MLP 4864, tied)
QWEN05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
               num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
               rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
               hidden_act="silu", use_sliding_window=False)
QWEN05B_PARAMS = 494_032_768
INT4_MIN_BUDGET_S = 90    # an INT4 quantization is not started with less time left
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


# ----------------------------------------------------------------------------- helpers


class Budget:
    def __init__(self, seconds: float):
        self.seconds, self.start = seconds, time.perf_counter()

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.start)


@dataclass
class Row:
    part: str
    llm: str
    device: str
    stage: str
    p50: float | None = None
    p99: float | None = None
    n: int = 0
    note: str = ""

    def cells(self) -> tuple:
        fmt = lambda v: "-" if v is None else f"{v:.3f}" if v < 10 else f"{v:.1f}"  # noqa: E731
        return (self.part, self.llm, self.device, self.stage, fmt(self.p50), fmt(self.p99),
                self.n or "-", self.note)


@dataclass
class Part:
    name: str
    llm: str
    device_label: str
    rows: list[Row] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def add(self, stage: str, p50=None, p99=None, n: int = 0, note: str = "") -> Row:
        row = Row(self.name, self.llm, self.device_label, stage, p50, p99, n, note)
        self.rows.append(row)
        return row

    def na(self, stage: str, reason: str) -> None:
        self.add(stage, note=f"n/a: {reason}")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def pick_device(requested: str) -> tuple[str, str]:
    """(torch device, message); `auto` falls back to the CPU and says so."""
    available = torch.cuda.is_available()
    if requested == "cuda" and not available:
        raise RuntimeError("--device cuda: no CUDA GPU is visible to torch")
    if requested == "cpu" or not available:
        return "cpu", NO_GPU
    return "cuda", f"CUDA GPU: {torch.cuda.get_device_name(0)}"


def device_label(device: str) -> str:
    return "cuda" if device.startswith("cuda") else "CPU"


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


@contextlib.contextmanager
def quiet():
    """GPTQModel prints banners and progress on stdout; keep stdout for the table."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[:160]


class TimedFrontend(nn.Module):
    """The torch vision frontend in `dtype`, timed with device syncs around each call."""

    def __init__(self, inner: nn.Module, dtype: torch.dtype, device: str):
        super().__init__()
        self.inner, self.dtype, self.device = inner.to(device=device, dtype=dtype), dtype, device
        self.last_s = 0.0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        sync(self.device)
        start = time.perf_counter()
        out = self.inner(images.to(self.dtype)).float()
        sync(self.device)
        self.last_s = time.perf_counter() - start
        return out


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


def kernel_name(llm: nn.Module) -> str:
    for module in llm.modules():
        if hasattr(module, "qweight"):
            return type(module).__name__
    return "none"


def load_gptq(directory: Path, device: str, kernel: str, notes: list[str]) -> nn.Module:
    """GPTQModel's model from a GPTQ directory with the chosen kernel (torch on failure)."""
    gptqmodel = import_gptqmodel()
    order = ["torch"] if device == "cpu" else list(dict.fromkeys([kernel, "torch"]))
    for name in order:
        try:
            with quiet():
                wrapped = gptqmodel.GPTQModel.load(str(directory), backend=gptqmodel.BACKEND(name),
                                                   device=device)
            return wrapped.model.eval()
        except Exception as exc:  # any kernel failure: note it, try the next one
            if name == order[-1]:
                raise
            notes.append(f"kernel {name} failed ({short(exc)}); fell back to {order[-1]}")
    raise AssertionError("unreachable")


def synthetic_inputs(cfg: VLAConfig, device: str, seed: int) -> list[tuple]:
    """INPUT_SETS random (uint8 images, ego, past on the host; ego, past on the device) sets."""
    gen = torch.Generator().manual_seed(seed)
    v, sets = cfg.vision, []
    for i in range(INPUT_SETS):
        images = torch.randint(0, 256, (1, v.num_frames, v.num_views, 3, v.image_size,
                                        v.image_size), dtype=torch.uint8, generator=gen)
        ego = torch.tensor([[8.0 + i, 0.01 * i, 0.1]], dtype=torch.float32)
        past = -torch.arange(4, 0, -1, dtype=torch.float32).view(1, 4, 1) * ego[0, 0] * 0.5
        past = torch.cat([past, torch.zeros_like(past)], dim=-1)
        sets.append((images, ego, past, ego.to(device), past.to(device)))
    return sets


# ----------------------------------------------------------------------------- the pipeline


class Pipeline:
    """A VLAModel on a device, run as the real-time path runs it (one forward, action head)."""

    def __init__(self, model: VLAModel, tokenizer: TextTokenizer, device: str,
                 frontend_dtype: torch.dtype, seed: int):
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.frontend = TimedFrontend(model.frontend, frontend_dtype, device)
        model.frontend = self.frontend
        self.inputs = synthetic_inputs(model.cfg, device, seed)

    @torch.no_grad()
    def plan(self, i: int = 0) -> tuple[float, float]:
        """(total s, encoder s) of one planning cycle: host uint8 images -> host waypoints.

        Normalised on the host, as the policy does (`normalise_images` keeps its mean/std on
        the CPU), then copied to the device."""
        images_u8, ego, past, ego_dev, past_dev = self.inputs[i % len(self.inputs)]
        sync(self.device)
        start = time.perf_counter()
        images = normalise_images(images_u8, self.model.cfg.vision).to(self.device)
        prompts = driving_prompts(self.tokenizer, ego, past, [INSTRUCTION])
        out = self.model(images, ego_dev, past_dev, prompts, None, use_queries=True).actions
        out.waypoints.cpu()
        sync(self.device)
        return time.perf_counter() - start, self.frontend.last_s

    @torch.no_grad()
    def decode(self, tokens: int) -> list[float]:
        """Seconds per greedy token after the action prefix (KV cache; EOS ignored)."""
        images_u8, ego, past, ego_dev, past_dev = self.inputs[0]
        model = self.model
        images = normalise_images(images_u8, model.cfg.vision).to(self.device)
        prompt = driving_prompts(self.tokenizer, ego, past, [INSTRUCTION])[0]
        prefix = build_prefix(model, images, ego_dev, past_dev, prompt, True)
        lm_head = model.llm.get_output_embeddings()
        hidden, cache = decoder_step(model.llm, prefix.embeds, use_cache=True)
        times = []
        for _ in range(tokens):
            sync(self.device)
            start = time.perf_counter()
            token = int(lm_head(hidden[:, -1]).argmax(-1))
            emb = model.embed_tokens(torch.tensor([[token]], device=prefix.embeds.device))
            hidden, cache = decoder_step(model.llm, emb, cache=cache, use_cache=True)
            sync(self.device)
            times.append(time.perf_counter() - start)
        return times


def time_pipeline(part: Part, pipe: Pipeline, load_start: float, args, budget: Budget) -> None:
    """First plan, warm-up, N timed cycles, decode runs: rows into `part`."""
    total, _ = pipe.plan(0)
    first_plan_s = time.perf_counter() - load_start
    part.figures.update(first_plan_ms=first_plan_s * MS, first_call_ms=total * MS)
    part.add("first plan s", first_plan_s, None, 1,
             f"load start -> first plan (first call {total * MS:.0f} ms)")
    for i in range(min(WARMUP_CYCLES, args.cycles)):
        pipe.plan(i)
    enc, tot = [], []
    for i in range(args.cycles):
        if budget.left() < 0:
            break
        t, e = pipe.plan(i)
        tot.append(t * MS)
        enc.append(e * MS)
    n = len(tot)
    cut = f"budget: {n} of {args.cycles} cycles" if n < args.cycles else ""
    if not n:
        part.na("total ms", "no time left in --budget-s")
        return
    llm = [t - e for t, e in zip(tot, enc)]
    enc_dtype = str(pipe.frontend.dtype).replace("torch.", "")
    for stage, values, note in (("encoder ms", enc, f"torch frontend {enc_dtype}"),
                                ("llm+head ms", llm, "prompt, state token, prefill, action head"),
                                ("total ms", tot, "host uint8 images -> waypoints on host")):
        part.add(stage, statistics.median(values), percentile(values, 99), n,
                 "; ".join(x for x in (note, cut) if x))
    part.figures.update(steady_infer_p50_ms=statistics.median(tot),
                        steady_infer_p99_ms=percentile(tot, 99),
                        encoder_p50_ms=statistics.median(enc),
                        llm_head_p50_ms=statistics.median(llm), cycles=n)
    pipe.decode(min(8, args.decode_tokens))  # warm-up: the cache's first shapes
    per_token = []
    for _ in range(args.decode_runs):
        if budget.left() < 0:
            break
        per_token.extend(t * MS for t in pipe.decode(args.decode_tokens))
    if not per_token:
        part.na("decode ms/token", "no time left in --budget-s")
        return
    p50 = statistics.median(per_token)
    part.add("decode ms/token", p50, percentile(per_token, 99), len(per_token),
             f"greedy, KV cache, {args.decode_tokens} tokens x {args.decode_runs} runs")
    part.add("decode tok/s", MS / p50, MS / percentile(per_token, 99), len(per_token),
             "1000 / (ms per token); p99 column = slowest 1 %")
    part.figures["decode_tokens_per_s"] = MS / p50


# ----------------------------------------------------------------------------- the parts


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
