"""Checkpoint -> bundle: ONNX frontend (checked against torch), GPTQ LLM, weights, manifest.

Each step is a function so the CLIs (`export onnx|gptq|bundle`) and the tests share them.
Calibration and check frames are contract sample dicts (docs/contracts.md) given by the caller.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from vla_driving.engines.gptq import GptqSettings, quantize_llm
from vla_driving.engines.gptq_head import EMBEDDING_FROM_HEAD, drop_tokenizer_copy
from vla_driving.export.onnx_frontend import Agreement, compare, export_frontend
from vla_driving.engines.ort_engine import OrtEngine
from vla_driving.engines.torch_engine import TorchEngine

log = logging.getLogger(__name__)

ENCODER_FILE = "encoder.onnx"
WEIGHTS_FILE = "policy.safetensors"
TOKENIZER_FILE = "tokenizer.json"
LLM_DIR = "llm"
DEFAULT_CAMERAS = ["bev_near", "bev_far"]
LLM_PREFIX = "llm."
TOOLS = ("torch", "onnx", "onnxruntime", "onnxscript", "transformers", "gptqmodel",
         "safetensors", "tokenizers")
# ONNX Runtime vs torch on dataset frames: fp32 kernels differ only by summation order.
ONNX_ABS_TOL = 1e-3
ONNX_REL_TOL = 1e-4


@dataclass
class ExportSettings:
    quantize: bool = True
    gptq: GptqSettings = None
    check_batch: int = 4

    def __post_init__(self):
        self.gptq = self.gptq or GptqSettings()


def tool_versions() -> dict[str, str]:
    out = {}
    for name in TOOLS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def sample_images(model, samples: list[dict], batch: int) -> list[np.ndarray]:
    """Normalised float32 [B, T*N, 3, S, S] batches of the samples' camera images."""
    import torch

    from vla_driving.model.vision import normalise_images

    out = []
    for i in range(0, len(samples), batch):
        images = torch.stack([torch.as_tensor(s["images"]) for s in samples[i:i + batch]])
        out.append(normalise_images(images, model.cfg.vision).numpy())
    return out


def export_onnx(model, samples: list[dict], out_dir: Path, batch: int = 4
                ) -> tuple[dict, Agreement]:
    """Write `encoder.onnx`; returns its engine entry and its agreement with torch."""
    import torch

    batches = sample_images(model, samples, batch)
    inputs, outputs = export_frontend(model.frontend, torch.from_numpy(batches[0]),
                                      out_dir / ENCODER_FILE)
    onnx_engine = OrtEngine(out_dir / ENCODER_FILE)
    agreement = compare(onnx_engine, TorchEngine(model.frontend, inputs, outputs), batches)
    entry = {"file": ENCODER_FILE, "format": "onnx", "precision": "fp32",
             "inputs": [s.to_dict() for s in inputs], "outputs": [s.to_dict() for s in outputs]}
    return entry, agreement


def save_hf_llm(model, tokenizer, directory: Path) -> Path:
    """The LLM as a standalone Hugging Face directory (config, safetensors, tokenizer)."""
    from vla_driving.model.tokenizer import BOS, EOS, PAD, UNK

    directory.mkdir(parents=True, exist_ok=True)
    model.llm.save_pretrained(str(directory), safe_serialization=True)
    tokenizer.save(directory)
    (directory / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": BOS, "eos_token": EOS,
         "pad_token": PAD, "unk_token": UNK}, indent=1))
    return directory


def export_llm(model, tokenizer, calibration: list[list[int]], out_dir: Path,
               settings: ExportSettings) -> dict:
    """Write `llm/` (GPTQ INT4, or full precision without quantization); its manifest entry."""
    target = out_dir / LLM_DIR
    if not settings.quantize:
        save_hf_llm(model, tokenizer, target)
        return {"dir": LLM_DIR, "format": "hf", "precision": "fp32"}
    with tempfile.TemporaryDirectory(prefix="vla_llm_") as tmp:
        save_hf_llm(model, tokenizer, Path(tmp))
        qc = quantize_llm(tmp, target, calibration, settings.gptq)
    for name in ("quant_log.csv",):  # GPTQModel's run log, not part of the model
        (target / name).unlink(missing_ok=True)
    if qc["embedding"] == EMBEDDING_FROM_HEAD:
        drop_tokenizer_copy(target)
    return {"dir": LLM_DIR, "format": "gptq", "precision": f"int{qc['bits']}",
            "bits": qc["bits"], "group_size": qc["group_size"], "sym": qc.get("sym", True),
            "desc_act": qc.get("desc_act", False), "checkpoint_format": qc.get(
                "checkpoint_format", "gptq"), "lm_head": settings.gptq.lm_head,
            "embedding": qc["embedding"]}


def save_policy_weights(model, out_dir: Path) -> dict:
    """Everything except the LLM (frontend, state token, queries, head), full precision."""
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()
             if not k.startswith(LLM_PREFIX)}
    save_file(state, str(out_dir / WEIGHTS_FILE))
    parts = sorted({k.split(".")[0] for k in state})
    return {"file": WEIGHTS_FILE, "precision": "fp32", "parts": parts}


def preprocessing_entry(cfg, cameras: list[str]) -> dict:
    """The manifest's `preprocessing`: the processor's config, which the run time reads back."""
    from vla_driving.model.processor import VlaProcessor

    return VlaProcessor.from_config(cfg, cameras).to_manifest()


def copy_tokenizer(checkpoint: Path, out_dir: Path) -> str:
    shutil.copyfile(checkpoint / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    return TOKENIZER_FILE


def calibration_token_ids(tokenizer, samples: list[dict], max_tokens: int) -> list[list[int]]:
    """GPTQ calibration from the driving data: each frame's prompt, caption, QA, justification."""
    from vla_driving.model.prompt import answer_target, driving_prompt, question_prompt

    out = []
    for s in samples:
        parts = [driving_prompt(s["ego"], s["past"], s.get("instruction", "")),
                 s.get("description", ""), s.get("justification", "")]
        parts += [f"{question_prompt(q)} {answer_target(a)}" for q, a in s.get("qa", [])]
        text = "\n".join(p for p in parts if p)
        out.append(([tokenizer.bos_id] + tokenizer.encode(text))[:max_tokens])
    return out


@dataclass
class BundleReport:
    manifest: object
    agreement: Agreement
    steps: list[str]


def build_bundle(checkpoint: str | Path, out_dir: str | Path, calibration: list[dict],
                 check: list[dict], settings: ExportSettings | None = None,
                 name: str = "", cameras: list[str] | None = None, progress=None
                 ) -> BundleReport:
    """Export a checkpoint to a verified bundle in `out_dir` (which must not exist yet)."""
    from vla_driving.model.checkpoint import load_checkpoint, read_config
    from vla_driving.bundle import Manifest, format_version_for, verify_bundle, write_manifest

    settings = settings or ExportSettings()
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} exists and is not empty; choose a new --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    step = progress or (lambda text: None)
    model, tokenizer = load_checkpoint(checkpoint)
    meta = read_config(checkpoint)
    step("encoder -> ONNX + check")
    encoder, agreement = export_onnx(model, check, out_dir, settings.check_batch)
    if not agreement.within(ONNX_ABS_TOL, ONNX_REL_TOL):
        raise RuntimeError(f"ONNX encoder disagrees with torch: max abs {agreement.max_abs:.3g}, "
                           f"rel {agreement.max_rel:.3g}")
    step("LLM -> GPTQ" if settings.quantize else "LLM -> safetensors")
    ids = calibration_token_ids(tokenizer, calibration, model.cfg.llm.max_positions)
    llm = export_llm(model, tokenizer, ids, out_dir, settings)
    step("policy weights + manifest")
    weights = save_policy_weights(model, out_dir)
    manifest = Manifest(
        name=name or checkpoint.name, architecture={"vla": meta["vla"], "llm": meta["llm"]},
        engines={"encoder": encoder}, llm=llm, weights=weights,
        preprocessing=preprocessing_entry(model.cfg, cameras or DEFAULT_CAMERAS),
        tokenizer=copy_tokenizer(checkpoint, out_dir),
        precision={"encoder": "fp32", "projector": "fp32", "llm": llm["precision"],
                   "action_head": "fp32"},
        tools=tool_versions(),
        checks={"onnx_vs_torch": {"max_abs": agreement.max_abs, "max_rel": agreement.max_rel,
                                  "frames": agreement.samples},
                "gptq_calibration_samples": len(ids) if settings.quantize else 0})
    manifest.format_version = format_version_for(llm)
    write_manifest(out_dir, manifest)
    step("verify")
    return BundleReport(verify_bundle(out_dir), agreement, ["onnx", "llm", "weights", "verify"])
