"""GPTQ INT4 for the LLM: quantize with GPTQModel, save and load the Hugging Face GPTQ format.

The saved directory is a standard Hugging Face checkpoint with `quantization_config` (method
gptq, bits, group_size, sym, desc_act) in `config.json` and packed `qweight`/`qzeros`/`scales`/
`g_idx` tensors in safetensors, the format TensorRT-LLM and TensorRT Edge-LLM ingest.
The runtime loads it with GPTQModel's kernels on CUDA and, on the CPU, unpacks the weights once
into GPTQModel's torch kernel's bf16 numbers without importing GPTQModel (`gptq_dequantized`);
`gptq_format.dequantize_checkpoint` reads the same files into a float32 model (export checks).
Both kernels compute in bf16/fp16, so `CastingLLM` casts embeddings in and hidden
states out: the projector and the action head stay float32.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from vla_driving.configuration import Config, param
from vla_driving.engines.base import require
from vla_driving.engines.casting_llm import CastingLLM
from vla_driving.engines.gptq_head import (EMBEDDING_FROM_HEAD, EMBEDDING_STORED, LM_HEAD,
                                           check_embedding_layout, drop_input_embedding,
                                           set_embedding_from_head, untie_hf_dir)

log = logging.getLogger(__name__)

GPTQ_EXTRA = "gptq"
CPU_WORKERS_ENV = "GPTQMODEL_CPU_WORKERS"
# GPTQModel 7.6 sizes its CPU pool as (cores + 1) // 2 but its model loader asks for 2 workers;
# on a 2-core machine that is 1 < 2 and quantization aborts, so ask for 2 unless set.
MIN_CPU_WORKERS = "2"
CALIBRATION_MIN_TOKENS = 10


@contextlib.contextmanager
def _gptqmodel_output_to_log():
    """GPTQModel prints banners and progress tables on stdout; keep CLI output to our tables."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        log.debug("GPTQModel output:\n%s", buffer.getvalue())


@contextlib.contextmanager
def _root_logging_kept():
    """GPTQModel's tokenizer helper (tokenicer) calls `logging.basicConfig(level=INFO)` when
    imported, which made every library's INFO lines print at `vla-driving run`; undo that."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def import_gptqmodel():
    """GPTQModel, imported lazily with the small-machine workaround applied."""
    os.environ.setdefault(CPU_WORKERS_ENV, MIN_CPU_WORKERS)
    with _gptqmodel_output_to_log(), _root_logging_kept():
        return require("gptqmodel", GPTQ_EXTRA)


@dataclass
class GptqSettings(Config):
    """GPTQ quantization of the LLM (the projector and action head are never quantized)."""

    bits: int = param(4, "weight bits", choices=(2, 4, 8))
    group_size: int = param(128, "input columns sharing one scale/zero; must divide the LLM's "
                            "hidden and MLP widths", low=8, high=4096)
    desc_act: bool = param(False, "activation-order quantization (off: faster kernels, and what "
                           "TensorRT-LLM expects)")
    sym: bool = param(True, "symmetric quantization")
    damp_percent: float = param(0.05, "Hessian dampening", low=0.0, high=1.0)
    calibration_samples: int = param(128, "driving-data frames used for calibration",
                                     low=1, high=100000)
    lm_head: str = param("full", "LM head: `full` keeps head and embedding in 16 bits (the "
                         "standard HF GPTQ layout); `int4` quantizes it too (same bits and "
                         "group size) and a tied input embedding is rebuilt from it at load "
                         "(engines/gptq_head.py): 3.55x smaller LLM, but the prompt's "
                         "embeddings are then 4-bit too and held-out closed-loop DS fell "
                         "42.7 -> 38.4 (docs/export.md)",
                         choices=("int4", "full"))
    head_mse: float = param(2.4, "INT4 LM head: GPTQModel's clipping search, scales shrunk to "
                            "minimise the error's p-norm with this p (GPTQModel's own value for "
                            "heads); 0: plain min/max", low=0.0, high=10.0)


def quantize_llm(src_dir: str | Path, out_dir: str | Path, calibration: Sequence[list[int]],
                 settings: GptqSettings) -> dict:
    """Quantize the HF causal LM in `src_dir` with token-id calibration samples; save to `out_dir`.

    Returns the `quantization_config` written into `out_dir/config.json`, plus `embedding`:
    `lm_head` when the input embedding is not stored but rebuilt from the INT4 head at load.
    """
    import json

    gptqmodel = import_gptqmodel()
    samples = [{"input_ids": list(ids), "attention_mask": [1] * len(ids)}
               for ids in calibration if len(ids) >= CALIBRATION_MIN_TOKENS]
    if not samples:
        raise ValueError(f"no calibration sample has >= {CALIBRATION_MIN_TOKENS} tokens")
    layout = dict(bits=settings.bits, group_size=settings.group_size,
                  desc_act=settings.desc_act, sym=settings.sym)
    head = settings.lm_head == "int4"
    # GPTQModel quantizes an lm_head at 8 bits / group 32 (mse 2.4) unless told otherwise.
    head_cfg = dict(layout, **({"mse": settings.head_mse} if settings.head_mse else {}))
    extra = {"lm_head": True, "dynamic": {LM_HEAD: head_cfg}} if head else {}
    tied = untie_hf_dir(src_dir) if head else False
    qcfg = gptqmodel.QuantizeConfig(**layout, damp_percent=settings.damp_percent,
                                    offload_to_disk=False, **extra)
    with _gptqmodel_output_to_log():
        model = gptqmodel.GPTQModel.load(str(src_dir), qcfg, device="cpu")
        model.quantize(samples, batch_size=1, calibration_data_min_length=CALIBRATION_MIN_TOKENS)
        model.save(str(out_dir))
    if tied:
        drop_input_embedding(out_dir)
    config = json.loads((Path(out_dir) / "config.json").read_text())
    return {**config["quantization_config"],
            "embedding": EMBEDDING_FROM_HEAD if tied else EMBEDDING_STORED}


def default_device() -> str:
    """`auto`, resolved where every device choice is (`engines.device`)."""
    from vla_driving.engines.device import resolve_device

    return resolve_device("auto")


LLM_KERNELS = ("default", "dequantized", "auto", "triton", "torch")
DEQUANTIZED = "dequantized"


def load_gptq_llm(directory: str | Path, device: str | None = None, kernel: str = "default",
                  embedding_from_head: bool = False):
    """The quantized HF causal LM in `directory`, wrapped to take and give float32.

    `embedding_from_head` (the manifest's `llm.embedding: lm_head`): the input embedding is not
    stored; it is rebuilt from the dequantized INT4 LM head (`gptq_head`).

    `kernel` (EngineConfig.llm_kernel): `default` is `dequantized` on CPU (GPTQModel's torch
    kernel's bf16 numbers with the weights unpacked once at load, GPTQModel not imported:
    `gptq_dequantized`) and, on CUDA, GPTQModel's Triton kernel, then its torch kernel for layers
    Triton refuses (e.g. 80-wide projections): neither compiles anything with nvcc at first use,
    which GPTQModel's `auto` choice may do for minutes. `torch` is GPTQModel's torch kernel
    itself. Without GPTQModel installed every kernel falls back to `dequantized` (logged).
    """
    from vla_driving.engines.base import MissingDependencyError

    if kernel not in LLM_KERNELS:
        raise ValueError(f"kernel={kernel!r}: allowed values are {list(LLM_KERNELS)}")
    device = device or default_device()
    check_embedding_layout(directory, embedding_from_head)
    if kernel == DEQUANTIZED or (kernel == "default" and device == "cpu"):
        return _dequantized(directory, device, embedding_from_head)
    try:
        gptqmodel = import_gptqmodel()
    except MissingDependencyError as exc:
        log.warning("%s; dequantizing the GPTQ checkpoint once at load instead", exc)
        return _dequantized(directory, device, embedding_from_head)
    B = gptqmodel.BACKEND
    if kernel != "default":
        backends = [getattr(B, kernel.upper()), B.TORCH]
    else:
        backends = [B.TRITON, B.TORCH]
    for backend in backends:
        try:
            with _gptqmodel_output_to_log(), _quiet_missing_embedding(embedding_from_head):
                wrapped = gptqmodel.GPTQModel.load(str(directory), backend=backend,
                                                   device=device)
            llm = eager_kernels(wrapped.model.eval())
            if embedding_from_head:
                set_embedding_from_head(llm, directory)
            return CastingLLM(llm)
        except (RuntimeError, ValueError, ImportError) as exc:
            if backend == backends[-1]:
                raise
            log.warning("GPTQModel kernel %s failed on %s (%s); trying %s", backend, device,
                        exc, backends[-1])


def _dequantized(directory, device: str, embedding_from_head: bool) -> CastingLLM:
    from vla_driving.engines.gptq_dequantized import load_dequantized_llm

    return CastingLLM(load_dequantized_llm(directory, embedding_from_head).to(device))


@contextlib.contextmanager
def _quiet_missing_embedding(expected: bool):
    """transformers warns that the (deliberately absent) embedding is newly initialised; it is
    overwritten right after loading, so say that once at debug level instead."""
    if not expected:
        yield
        return
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        log.debug("GPTQ: input embedding rebuilt from the INT4 LM head")


def eager_kernels(model):
    """Undo GPTQModel's `torch.compile` of each quantized linear's `dequantize_weight` (its torch
    kernel compiles in `post_init`). While dynamo traces it in one thread, transformers'
    output-capturing `CompileableContextVar` sees `is_torchdynamo_compiling()` and switches to a
    process-global variable, so a forward in another thread (planning vs. text generation on the
    same model) reads or resets the other thread's state: "'_contextvars.Token' object has no
    attribute 'get'" (issue 19, item 5). Eager dequantization also removes the first-use compile
    (seconds) and dynamo's recompile-limit warnings; the torch kernel caches dequantized 4-bit
    weights at eval, so compiling gained little."""
    undone = 0
    for module in model.modules():
        if "dequantize_weight" in vars(module):   # the compiled instance attribute
            del module.dequantize_weight
            undone += 1
    if undone:
        log.debug("GPTQ: %d quantized linears dequantize eagerly (no torch.compile)", undone)
    return model


def load_hf_llm(directory: str | Path, device: str | None = None):
    """A full-precision HF causal LM saved in a bundle (local files, safetensors only)."""
    import torch
    from transformers import AutoModelForCausalLM

    llm = AutoModelForCausalLM.from_pretrained(
        str(directory), local_files_only=True, trust_remote_code=False, use_safetensors=True,
        dtype=torch.float32)
    llm.config._attn_implementation = "eager"
    return llm.to(device or default_device()).eval()

