"""Cache of built TensorRT engines, keyed by everything that makes a plan valid.

A plan is only valid for the exact ONNX file, TensorRT version, GPU compute capability,
precision and optimisation profile it was built with (and, for int8, the calibration data).
The key covers all of them, so a stale plan is never found and is rebuilt instead of loaded.
Pure Python (no tensorrt import), so the key logic is tested on every machine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

PLAN_SUFFIX = ".plan"
KEY_SUFFIX = ".key.json"
Profile = tuple[tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...]], ...]


def make_profile(shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]
                 ) -> Profile:
    """Canonical (sorted, all-int) optimisation profile: name -> (min, opt, max) shapes."""
    return tuple((name, *(tuple(int(d) for d in s) for s in mmo))
                 for name, mmo in sorted(shapes.items()))


@dataclass(frozen=True)
class EngineKey:
    """Everything a TensorRT plan depends on."""

    onnx_sha256: str
    tensorrt_version: str
    compute_capability: str
    precision: str
    profile: Profile
    calibration_sha256: str = ""  # int8 only: hash of the calibration frames

    def to_dict(self) -> dict:
        data = asdict(self)
        data["profile"] = [[n, list(a), list(b), list(c)] for n, a, b, c in self.profile]
        return data

    def digest(self) -> str:
        """Stable short hash of the whole key (the cache file name)."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class EngineCache:
    """A directory of `<stem>-<key digest>.plan` files, each with its full key beside it."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def path_for(self, stem: str, key: EngineKey) -> Path:
        return self.directory / f"{stem}-{key.digest()}{PLAN_SUFFIX}"

    def load(self, stem: str, key: EngineKey) -> bytes | None:
        """The cached plan for exactly `key`, or None (missing, or its stored key differs)."""
        path = self.path_for(stem, key)
        key_path = path.with_suffix(KEY_SUFFIX)
        if not path.is_file() or not key_path.is_file():
            self._log_stale(stem, path)
            return None
        try:
            stored = json.loads(key_path.read_text())
        except (OSError, json.JSONDecodeError):
            stored = None
        if stored != key.to_dict():
            log.warning("engine %s: stored key differs from the wanted key, rebuilding", path.name)
            return None
        return path.read_bytes()

    def store(self, stem: str, key: EngineKey, plan: bytes) -> Path:
        """Write the plan and its key atomically (a crash never leaves a half plan)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(stem, key)
        for target, data in ((path, plan),
                             (path.with_suffix(KEY_SUFFIX),
                              json.dumps(key.to_dict(), indent=1).encode())):
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return path

    def get_or_build(self, stem: str, key: EngineKey, build: Callable[[], bytes]
                     ) -> tuple[bytes, bool]:
        """(plan, built): the cached plan for `key`, or a fresh build that is then stored."""
        plan = self.load(stem, key)
        if plan is not None:
            return plan, False
        plan = build()
        self.store(stem, key, plan)
        return plan, True

    def _log_stale(self, stem: str, wanted: Path) -> None:
        others = [p.name for p in self.directory.glob(f"{stem}-*{PLAN_SUFFIX}") if p != wanted]
        if others:
            log.info("engine %s not cached; ignoring plans built for other keys: %s",
                     wanted.name, ", ".join(sorted(others)))
