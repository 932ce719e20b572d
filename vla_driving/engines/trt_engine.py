"""TensorRT backend (the name-based I/O API, unchanged from TensorRT 10 to 11): deserialize a
plan, bind tensors by name.

Device buffers are torch CUDA tensors, so no pycuda is needed. Input shapes are set per call
(`set_input_shape`), output shapes read back from the context, so a dynamic batch works within
the plan's optimisation profile.
"""

from __future__ import annotations

import logging

import numpy as np

from vla_driving.engines.base import DYNAMIC, Engine, EngineError, TensorSpec, require

log = logging.getLogger(__name__)


def tensorrt_module():
    return require("tensorrt", "tensorrt")


def compute_capability(device_id: int = 0) -> str:
    """"major.minor" of the CUDA device, e.g. "8.7" on Orin."""
    torch = require("torch", "torch")
    if not torch.cuda.is_available():
        raise EngineError("TensorRT needs a CUDA GPU; none is visible to torch")
    major, minor = torch.cuda.get_device_capability(device_id)
    return f"{major}.{minor}"


class TrtEngine(Engine):
    """A serialized TensorRT plan in an execution context on one CUDA device."""

    backend = "tensorrt"

    def __init__(self, plan: bytes, device_id: int = 0):
        trt = tensorrt_module()
        self.torch = require("torch", "torch")
        compute_capability(device_id)  # fails clearly without a GPU
        self.device = self.torch.device("cuda", device_id)
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            raise EngineError("TensorRT could not deserialize the plan (built for another "
                              "TensorRT version or GPU?)")
        self.context = self.engine.create_execution_context()
        self.stream = self.torch.cuda.Stream(device=self.device)
        self._inputs, self._outputs = [], []
        for i in range(self.engine.num_io_tensors):
            name = self.engine.get_tensor_name(i)
            dtype = np.dtype(trt.nptype(self.engine.get_tensor_dtype(name))).name
            shape = tuple(d if d >= 0 else DYNAMIC for d in self.engine.get_tensor_shape(name))
            spec = TensorSpec(name, dtype, shape)
            is_input = self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            (self._inputs if is_input else self._outputs).append(spec)

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        keep = []
        for spec in self._inputs:
            tensor = torch.from_numpy(feeds[spec.name]).to(self.device)
            keep.append(tensor)
            if not self.context.set_input_shape(spec.name, tuple(tensor.shape)):
                raise EngineError(f"input '{spec.name}' shape {tuple(tensor.shape)} is outside "
                                  f"the engine's optimisation profile")
            self.context.set_tensor_address(spec.name, tensor.data_ptr())
        outputs = {}
        for spec in self._outputs:
            shape = tuple(self.context.get_tensor_shape(spec.name))
            out = torch.empty(shape, dtype=getattr(torch, spec.dtype), device=self.device)
            self.context.set_tensor_address(spec.name, out.data_ptr())
            outputs[spec.name] = out
        if not self.context.execute_async_v3(self.stream.cuda_stream):
            raise EngineError("TensorRT execute_async_v3 failed")
        self.stream.synchronize()
        return {n: t.cpu().numpy() for n, t in outputs.items()}

    def close(self) -> None:
        self.context = self.engine = None
