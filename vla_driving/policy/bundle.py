"""Self-describing model bundles: `manifest.json` + files, verified before anything is loaded.

The manifest records the format version, the architecture config, every file with its size
and sha256, the I/O of each engine, the preprocessing, the tokenizer, the precision of each part
and the tool versions that produced it. `verify_bundle` refuses, naming the problem, a bundle
that is incomplete, altered, carries unlisted files, or has another format version;
`load_bundle` (in `bundle_loader`) builds the runtime parts without the training code.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

from ..engines.engine_cache import sha256_file
from .base import PolicyUnavailableError

FORMAT = "vla_driving.bundle"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
ENGINE_CACHE_DIR = "engines"  # built TensorRT plans live here; not part of the hashed content
ENCODER = "encoder"


class BundleError(PolicyUnavailableError):
    """A bundle is missing, incomplete, altered or of an incompatible format version."""


@dataclass
class FileEntry:
    sha256: str
    bytes: int


@dataclass
class Manifest:
    """Everything the runtime needs to know about a bundle (JSON in `manifest.json`)."""

    name: str
    architecture: dict[str, Any]
    engines: dict[str, dict[str, Any]]   # name -> {file, format, precision, inputs, outputs}
    llm: dict[str, Any]                  # {dir, format: gptq|hf, precision, bits, group_size}
    weights: dict[str, Any]              # {file, precision, parts}: encoder/projector/head torch
    preprocessing: dict[str, Any]        # PreprocessSpec dict + cameras, num_frames
    tokenizer: str
    precision: dict[str, str]            # part -> fp32 / fp16 / int8 / int4
    tools: dict[str, str] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    files: dict[str, FileEntry] = field(default_factory=dict)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Manifest":
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls)
                    if f.default is MISSING and f.default_factory is MISSING}
        missing = sorted(required - set(data))
        if missing:
            raise BundleError(f"manifest lacks required keys {missing}")
        unknown = sorted(set(data) - names)
        if unknown:
            raise BundleError(f"manifest has unknown keys {unknown}")
        values = dict(data)
        try:
            values["files"] = {k: FileEntry(**v) for k, v in data.get("files", {}).items()}
        except TypeError as exc:
            raise BundleError(f"manifest 'files' entries are malformed: {exc}") from None
        manifest = cls(**values)
        manifest.check_structure()
        return manifest

    def check_structure(self) -> None:
        """The entries every loader relies on exist (`BundleError` naming the missing one)."""
        needs = [("engines", self.engines, ENCODER), ("llm", self.llm, "dir"),
                 ("llm", self.llm, "format"), ("weights", self.weights, "file")]
        if ENCODER in self.engines:
            needs += [(f"engines.{ENCODER}", self.engines[ENCODER], k)
                      for k in ("file", "inputs", "outputs")]
        for where, section, key in needs:
            if not isinstance(section, dict) or key not in section:
                raise BundleError(f"manifest: '{where}' lacks '{key}'")

    def referenced_files(self) -> list[str]:
        """Files the manifest's parts point at (each must be listed in `files`)."""
        refs = [e["file"] for e in self.engines.values()] + [self.weights["file"], self.tokenizer]
        llm_dir = self.llm.get("dir", "")
        if not any(f.startswith(llm_dir + "/") for f in self.files):
            refs.append(f"{llm_dir}/config.json")
        return refs


def bundle_files(root: Path) -> list[str]:
    """Relative POSIX paths of every content file (not the manifest or the engine cache)."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != MANIFEST_FILE and not rel.startswith(ENGINE_CACHE_DIR + "/"):
            out.append(rel)
    return out


def write_manifest(root: str | Path, manifest: Manifest) -> Path:
    """Hash every file of `root` into `manifest.files` and write `manifest.json`."""
    root = Path(root)
    manifest.files = {rel: FileEntry(sha256_file(root / rel), (root / rel).stat().st_size)
                      for rel in bundle_files(root)}
    path = root / MANIFEST_FILE
    path.write_text(json.dumps(manifest.to_dict(), indent=1, sort_keys=True) + "\n")
    return path


def read_manifest(root: str | Path) -> Manifest:
    """Parse `manifest.json`, checking the format tag and version before anything else."""
    root = Path(root)
    if not root.is_dir():
        raise BundleError(f"bundle directory not found: {root}")
    path = root / MANIFEST_FILE
    if not path.is_file():
        raise BundleError(f"{root}: incomplete bundle, {MANIFEST_FILE} is missing")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError(f"{path}: not a vla_driving bundle manifest (format "
                          f"{data.get('format') if isinstance(data, dict) else None!r})")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(f"{path}: bundle format version {version!r} is not supported; this "
                          f"runtime reads version {FORMAT_VERSION} (re-export the bundle)")
    return Manifest.from_dict(data)


def _check_path(rel: str) -> None:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise BundleError(f"manifest lists an unsafe path {rel!r}")


def verify_bundle(root: str | Path) -> Manifest:
    """The manifest of a complete, unaltered bundle; `BundleError` naming the first problem."""
    root = Path(root)
    manifest = read_manifest(root)
    if not manifest.files:
        raise BundleError(f"{root}: the manifest lists no files")
    for rel, entry in sorted(manifest.files.items()):
        _check_path(rel)
        path = root / rel
        if not path.is_file():
            raise BundleError(f"{root}: incomplete bundle, '{rel}' is missing")
        size = path.stat().st_size
        if size != entry.bytes:
            raise BundleError(f"{root}: '{rel}' was altered (size {size} bytes, manifest says "
                              f"{entry.bytes})")
        if sha256_file(path) != entry.sha256:
            raise BundleError(f"{root}: '{rel}' was altered (sha256 differs from the manifest)")
    unlisted = sorted(set(bundle_files(root)) - set(manifest.files))
    if unlisted:
        raise BundleError(f"{root}: files not in the manifest: {unlisted}")
    for rel in manifest.referenced_files():
        if rel not in manifest.files:
            raise BundleError(f"{root}: the manifest refers to '{rel}' but does not list it")
    return manifest


@dataclass
class LoadedBundle:
    """A verified bundle's runtime parts; `model.frontend` runs the selected encoder engine."""

    root: Path
    manifest: Manifest
    model: Any          # vla_driving.model.VLAModel with the engine as frontend
    tokenizer: Any      # vla_driving.model.tokenizer.TextTokenizer
    encoder: Any        # vla_driving.engines.Engine
    torch_frontend: Any  # the full-precision torch frontend (reference)


def _load_llm(root: Path, manifest: Manifest, device: str):
    from ..engines.casting_llm import CastingLLM
    from ..engines.gptq import load_gptq_llm, load_hf_llm

    fmt = manifest.llm.get("format")
    directory = root / manifest.llm["dir"]
    if fmt == "gptq":
        return load_gptq_llm(directory, device)
    if fmt == "hf":
        return CastingLLM(load_hf_llm(directory, device))
    raise BundleError(f"{root}: unknown LLM format {fmt!r} (known: gptq, hf)")


def _load_policy_model(root: Path, manifest: Manifest, device: str):
    from safetensors.torch import load_file

    from ..model.config import VLAConfig
    from ..model.vla import VLAModel

    cfg = VLAConfig.from_dict(manifest.architecture["vla"])
    model = VLAModel(cfg, llm=_load_llm(root, manifest, device))
    weights = load_file(str(root / manifest.weights["file"]))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.startswith("llm.")]
    if missing or unexpected:
        raise BundleError(f"{root}: {manifest.weights['file']} does not fit the architecture "
                          f"(missing {missing[:5]}, unexpected {unexpected[:5]})")
    return model.to(device).eval()


def load_bundle(path: str | Path, engine_cfg=None, device: str | None = None) -> LoadedBundle:
    """Verify, then load: encoder engine (per `engine_cfg`), LLM, head weights, tokenizer."""
    from ..engines.base import TensorSpec
    from ..engines.config import EngineConfig
    from ..engines.engine_module import EngineModule
    from ..engines.gptq import default_device
    from ..engines.registry import create_engine
    from ..engines.torch_engine import TorchEngine
    from ..model.tokenizer import TextTokenizer

    root = Path(path)
    manifest = verify_bundle(root)
    device = device or default_device()
    model = _load_policy_model(root, manifest, device)
    entry = manifest.engines[ENCODER]
    inputs = [TensorSpec.from_dict(s) for s in entry["inputs"]]
    outputs = [TensorSpec.from_dict(s) for s in entry["outputs"]]
    frontend = model.frontend
    cfg = engine_cfg or EngineConfig()
    cache_dir = Path(cfg.cache_dir) if cfg.cache_dir else root / ENGINE_CACHE_DIR
    encoder = create_engine(root / entry["file"], inputs, cfg, cache_dir,
                            torch_factory=lambda: TorchEngine(frontend, inputs, outputs, device))
    model.frontend = EngineModule(encoder)
    return LoadedBundle(root, manifest, model, TextTokenizer.load(root / manifest.tokenizer),
                        encoder, frontend)
