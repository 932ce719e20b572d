"""The bundle manifest: `manifest.json` beside the files it describes, read and written here.

The manifest records the format version, the architecture config, every file with its size and
sha256, the I/O of each engine, the preprocessing, the tokenizer, the precision of each part and
the tool versions that produced it, and the sha256 of all that (`manifest_sha256`), which the
bundle id and the verification cover, so a changed config value cannot load silently. This floor sits below `engines/` and `policy/`: it knows
files and JSON, never a model or a backend.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

FORMAT = "vla_driving.bundle"
FORMAT_VERSION = 1
# 2: the LLM's input embedding is not stored but rebuilt from its INT4 LM head
# (`llm.embedding: lm_head`); a runtime that reads only 1 must refuse such a bundle.
EMBEDDING_FROM_HEAD_VERSION = 2
SUPPORTED_FORMAT_VERSIONS = (FORMAT_VERSION, EMBEDDING_FROM_HEAD_VERSION)
MANIFEST_FILE = "manifest.json"
ENGINE_CACHE_DIR = "engines"  # built TensorRT plans live here; not part of the hashed content
ENCODER = "encoder"


_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class BundleError(ValueError):
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
    manifest_sha256: str = ""            # sha256 of every other entry (`content_digest`)

    @property
    def bundle_id(self) -> str:
        """`name@` + the first 12 hex digits of the manifest digest: any change of the manifest
        (a config value, a file hash, hence any weight) gives another id."""
        return f"{self.name}@{(self.manifest_sha256 or content_digest(self.to_dict()))[:12]}"

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


def format_version_for(llm: dict[str, Any]) -> int:
    """The lowest format version that describes this LLM entry, so older runtimes still read
    every bundle they can load correctly."""
    return EMBEDDING_FROM_HEAD_VERSION if llm.get("embedding") == "lm_head" else FORMAT_VERSION


def content_digest(data: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own `manifest_sha256` entry."""
    body = {k: v for k, v in data.items() if k != "manifest_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def bundle_files(root: Path) -> list[str]:
    """Relative POSIX paths of every content file (not the manifest or the engine cache)."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != MANIFEST_FILE and not rel.startswith(ENGINE_CACHE_DIR + "/"):
            out.append(rel)
    return out


def write_manifest(root: str | Path, manifest: Manifest) -> Path:
    """Hash every file of `root` into `manifest.files`, the result into `manifest_sha256`, and
    write `manifest.json`."""
    root = Path(root)
    manifest.files = {rel: FileEntry(sha256_file(root / rel), (root / rel).stat().st_size)
                      for rel in bundle_files(root)}
    manifest.manifest_sha256 = content_digest(manifest.to_dict())
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
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise BundleError(f"{path}: bundle format version {version!r} is not supported; this "
                          f"runtime reads versions {list(SUPPORTED_FORMAT_VERSIONS)} (re-export "
                          f"the bundle)")
    return Manifest.from_dict(data)
