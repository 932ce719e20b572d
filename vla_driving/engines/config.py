"""`EngineConfig`: which backend runs the vision encoder, on which device, with which precision."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param

BACKENDS = ("auto", "tensorrt", "onnxruntime", "torch")
ORT_PROVIDERS = ("tensorrt", "cuda", "cpu")
PRECISIONS = ("fp32", "fp16", "int8")


LLM_KERNELS = ("default", "dequantized", "auto", "triton", "torch")


@dataclass
class EngineConfig(Config):
    """Backend choice and build settings of the vision-encoder engine.

    `auto` tries TensorRT (needs the `tensorrt` package and a CUDA GPU), then ONNX Runtime with
    the providers of `ort_providers` in order; every fallback is logged with its reason.
    """

    backend: str = param("auto", "encoder backend; auto = tensorrt, then onnxruntime",
                         choices=BACKENDS)
    ort_providers: list[str] = param(list(ORT_PROVIDERS), "ONNX Runtime execution providers in "
                                     "order of preference; unavailable ones are skipped",
                                     choices=ORT_PROVIDERS, min_len=1)
    device: str = param("auto", "where the torch parts run (LLM, projector, heads, a torch "
                        "encoder): auto = cuda when a GPU is visible, else cpu; cpu, cuda, cuda:N")
    device_id: int = param(0, "CUDA device index for TensorRT / CUDA providers", low=0, high=64)
    llm_kernel: str = param("default", "GPTQ INT4 kernel of the LLM: default (dequantized on "
                            "CPU; GPTQModel's Triton then torch on CUDA, nothing compiled at "
                            "first use), dequantized (GPTQModel's torch-kernel numbers, weights "
                            "unpacked once at load, GPTQModel not imported), auto (GPTQModel's "
                            "choice, may nvcc-compile for minutes), triton, torch (GPTQModel's)",
                            choices=LLM_KERNELS)
    precision: str = param("fp16", "TensorRT engine precision (fp32, fp16, int8)",
                           choices=PRECISIONS)
    cache_dir: str = param("", "TensorRT engine cache directory; empty = <bundle>/engines")
    workspace_mb: int = param(1024, "TensorRT builder workspace limit (MiB)", low=16, high=1 << 20)
    min_batch: int = param(1, "optimisation profile: smallest batch", low=1, high=4096)
    opt_batch: int = param(1, "optimisation profile: batch the kernels are tuned for",
                           low=1, high=4096)
    max_batch: int = param(4, "optimisation profile: largest batch", low=1, high=4096)
    calibration_batches: int = param(8, "int8 calibration: batches of dataset frames",
                                     low=1, high=10000)
    intra_op_threads: int = param(0, "ONNX Runtime CPU threads; 0 = library default",
                                  low=0, high=256)
    torch_threads: int = param(0, "torch CPU threads of the LLM and heads (process-wide); 0 = "
                               "torch's default, one per core. Where other work shares the "
                               "cores, 1 is several times faster: a second thread waits on the "
                               "busier core (docs/evaluation.md)", low=0, high=256)

    def validate(self) -> None:
        from vla_driving.engines.device import DEVICE_PATTERN

        if not DEVICE_PATTERN.match(self.device):
            raise ConfigError(f"device={self.device!r}: expected auto, cpu, cuda or cuda:N")
        if not self.min_batch <= self.opt_batch <= self.max_batch:
            raise ConfigError(f"min_batch={self.min_batch}, opt_batch={self.opt_batch}, "
                              f"max_batch={self.max_batch}: need min <= opt <= max")
