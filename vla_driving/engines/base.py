"""The `Engine` interface every backend implements, and the checks shared by all of them.

An engine maps named numpy inputs to named numpy outputs. Inputs are validated against the
engine's `TensorSpec`s before running, so a wrong shape is a clear `InputError` naming the
tensor, never a backend crash deep inside ONNX Runtime or TensorRT.
"""

from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

DYNAMIC = -1  # a dimension of any size (e.g. the batch)


class EngineError(RuntimeError):
    """An engine could not be built, loaded or run."""


class InputError(EngineError, ValueError):
    """Inputs do not match the engine's declared names, dtypes or shapes."""


class MissingDependencyError(EngineError, ImportError):
    """An optional backend library is not installed; the message names the extra to install."""


def require(module: str, extra: str | None, package: str | None = None) -> Any:
    """Import an optional dependency or raise `MissingDependencyError` naming the extra.

    `extra` is the `vla_driving[...]` extra that provides it; None for a base dependency, then
    the message names the pip `package` instead.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = (f"pip install 'vla_driving[{extra}]'" if extra
                else f"pip install {package or module}")
        raise MissingDependencyError(f"'{module}' is not installed ({exc}); install it with "
                                     f"{hint}") from exc


@dataclass(frozen=True)
class TensorSpec:
    """Name, numpy dtype name and shape of one engine input/output (`DYNAMIC` = any size)."""

    name: str
    dtype: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TensorSpec":
        try:
            return cls(str(data["name"]), str(data["dtype"]), tuple(int(d) for d in data["shape"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad tensor spec {dict(data)!r}: {exc}") from None

    def check(self, array: np.ndarray) -> None:
        """Raise `InputError` unless `array` has this spec's dtype and shape."""
        if array.dtype != np.dtype(self.dtype):
            raise InputError(f"input '{self.name}': dtype {array.dtype}, expected {self.dtype}")
        if array.ndim != len(self.shape) or any(
                want != DYNAMIC and got != want for got, want in zip(array.shape, self.shape)):
            raise InputError(f"input '{self.name}': shape {tuple(array.shape)}, expected "
                             f"{_shape_text(self.shape)}")


def _shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join("N" if d == DYNAMIC else str(d) for d in shape) + "]"


class Engine(abc.ABC):
    """Named numpy inputs -> named numpy outputs; implementations hold their own session."""

    backend: str = ""
    _inputs: list[TensorSpec]
    _outputs: list[TensorSpec]

    @property
    def inputs(self) -> list[TensorSpec]:
        """Declared inputs, in order (set by the backend when its session opens)."""
        return self._inputs

    @property
    def outputs(self) -> list[TensorSpec]:
        """Declared outputs, in order."""
        return self._outputs

    @abc.abstractmethod
    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Backend-specific run on validated, contiguous feeds."""

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Validate `feeds` against `inputs`, then run; returns every output by name."""
        names = [s.name for s in self.inputs]
        missing = [n for n in names if n not in feeds]
        extra = [n for n in feeds if n not in names]
        if missing or extra:
            raise InputError(f"{self.backend} engine: missing inputs {missing}, unknown inputs "
                             f"{extra} (expected {names})")
        for spec in self.inputs:
            spec.check(np.asarray(feeds[spec.name]))
        return self._run({n: np.ascontiguousarray(feeds[n]) for n in names})

    def close(self) -> None:
        """Release the session and device memory."""
