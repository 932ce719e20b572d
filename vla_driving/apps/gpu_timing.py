"""Timing the real-time path on a device, for `bench gpu`: the budget, the table's rows, the
pipeline (torch frontend, LLM, action head) as the planner runs it, and GPTQModel loading.

Every figure is taken between device syncs; without a CUDA GPU the same code times the CPU and
the rows say so.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from vla_driving.engines.gptq import import_gptqmodel
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
