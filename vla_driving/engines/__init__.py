"""Inference backends behind one `Engine` interface: ONNX Runtime, TensorRT, torch eager.

Backends are imported lazily through `registry.create_engine`, so importing this package never
imports onnxruntime, tensorrt or torch; a missing one raises `MissingDependencyError` naming
the pip extra that provides it.
"""

from vla_driving.engines.base import (Engine, EngineError, InputError, MissingDependencyError,
                                      TensorSpec)

__all__ = ["Engine", "EngineError", "InputError", "MissingDependencyError", "TensorSpec"]
