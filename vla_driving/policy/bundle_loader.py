"""`load_bundle`: verify a bundle, then build its runtime parts without the training code.

The encoder runs on the engine the `EngineConfig` selects (TensorRT, ONNX Runtime, torch), the
LLM from its GPTQ INT4 or Hugging Face directory, the projector and heads from safetensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vla_driving.bundle import ENCODER, ENGINE_CACHE_DIR, BundleError, Manifest, verify_bundle
from vla_driving.policy.base import PolicyUnavailableError


@dataclass
class LoadedBundle:
    """A verified bundle's runtime parts; `model.frontend` runs the selected encoder engine."""

    root: Path
    manifest: Manifest
    model: Any          # vla_driving.model.VLAModel with the engine as frontend
    tokenizer: Any      # vla_driving.model.tokenizer.TextTokenizer
    encoder: Any        # vla_driving.engines.Engine
    torch_frontend: Any  # the full-precision torch frontend (reference)
    processor: Any = None  # vla_driving.model.processor.VlaProcessor, from the manifest


def _load_llm(root: Path, manifest: Manifest, device: str, kernel: str = "default"):
    from vla_driving.engines.casting_llm import CastingLLM
    from vla_driving.engines.gptq import load_gptq_llm, load_hf_llm
    from vla_driving.engines.gptq_format import GptqFormatError

    fmt = manifest.llm.get("format")
    directory = root / manifest.llm["dir"]
    embedding = manifest.llm.get("embedding", "stored")  # absent: bundles before issue 21
    if embedding not in ("stored", "lm_head"):
        raise PolicyUnavailableError(f"{root}: unknown llm.embedding {embedding!r} (known: "
                                     f"stored, lm_head)")
    if fmt == "gptq":
        try:
            return load_gptq_llm(directory, device, kernel, embedding == "lm_head")
        except GptqFormatError as exc:
            raise PolicyUnavailableError(f"{root}: {exc}") from exc
    if fmt == "hf":
        return CastingLLM(load_hf_llm(directory, device))
    raise BundleError(f"{root}: unknown LLM format {fmt!r} (known: gptq, hf)")


def _load_processor(root: Path, manifest: Manifest):
    """The model's processor from the manifest's preprocessing, checked against the architecture."""
    from vla_driving.model.processor import VlaProcessor

    try:
        return VlaProcessor.from_manifest(manifest.preprocessing, manifest.architecture)
    except ValueError as exc:
        raise PolicyUnavailableError(f"{root}: {exc}") from exc


def _load_policy_model(root: Path, manifest: Manifest, device: str,
                       kernel: str = "default"):
    from vla_driving.model.config import VLAConfig
    from vla_driving.model.vla import VLAModel

    cfg = VLAConfig.from_dict(manifest.architecture["vla"])
    model = VLAModel(cfg, llm=_load_llm(root, manifest, device, kernel))
    load_policy_weights(model, root, manifest)
    return model.to(device).eval()


def load_policy_weights(model, root: Path, manifest: Manifest) -> None:
    """The bundle's own weights of everything but the LLM (encoder, projector, queries, head)."""
    from safetensors.torch import load_file

    weights = load_file(str(root / manifest.weights["file"]))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.startswith("llm.")]
    if missing or unexpected:
        raise BundleError(f"{root}: {manifest.weights['file']} does not fit the architecture "
                          f"(missing {missing[:5]}, unexpected {unexpected[:5]})")


def load_bundle(path: str | Path, engine_cfg=None, device: str | None = None) -> LoadedBundle:
    """Verify, then load: processor (from the manifest), encoder engine (per `engine_cfg`), LLM,
    head weights, tokenizer."""
    from vla_driving.engines.base import TensorSpec
    from vla_driving.engines.config import EngineConfig
    from vla_driving.engines.engine_module import EngineModule
    from vla_driving.engines.device import resolve_device
    from vla_driving.engines.registry import create_engine
    from vla_driving.engines.torch_engine import TorchEngine
    from vla_driving.model.tokenizer import TextTokenizer

    root = Path(path)
    try:
        manifest = verify_bundle(root)
    except BundleError as exc:  # the planner's configure reports the reason, names the file
        raise PolicyUnavailableError(str(exc)) from exc
    cfg = engine_cfg or EngineConfig()
    device = device or resolve_device(cfg.device)
    processor = _load_processor(root, manifest)
    model = _load_policy_model(root, manifest, device, cfg.llm_kernel)
    entry = manifest.engines[ENCODER]
    inputs = [TensorSpec.from_dict(s) for s in entry["inputs"]]
    outputs = [TensorSpec.from_dict(s) for s in entry["outputs"]]
    frontend = model.frontend
    cache_dir = Path(cfg.cache_dir) if cfg.cache_dir else root / ENGINE_CACHE_DIR
    encoder = create_engine(root / entry["file"], inputs, cfg, cache_dir,
                            torch_factory=lambda: TorchEngine(frontend, inputs, outputs, device))
    model.frontend = EngineModule(encoder)
    return LoadedBundle(root, manifest, model, TextTokenizer.load(root / manifest.tokenizer),
                        encoder, frontend, processor)
