"""Third-party start-up noise, hidden at the command line; `VLA_DRIVING_VERBOSE=1` (or
`--verbose` before the command, `vla-driving --verbose run ...`) shows it.

Each entry is a library's own warning about itself that says nothing about this run: torchao's
optional CUDA / Triton kernels missing on a CPU machine, accelerate's "weights are not tied"
for GPTQModel's load of a tied-embedding LLM, transformers' deprecation of the cache argument
name GPTQModel's and our decoder calls still use, torch's notice about enums in pytrees, and
tokenicer's "Auto fixed pad_token_id" (GPTQModel's tokenizer helper, once per tokenizer load).
Errors from these loggers still show. The first notice hidden in a process is replaced by
one line saying so, so that nothing disappears without a trace.
"""

from __future__ import annotations

import logging
import os
import sys

VERBOSE_ENV = "VLA_DRIVING_VERBOSE"
NOISY_LOGGERS = ("torchao", "accelerate.utils.modeling", "transformers.utils.generic",
                 "torch.utils._pytree", "tokenicer", "onnx_ir", "torch.onnx")
HIDDEN_LINE = ("(third-party start-up notices hidden: torchao, accelerate, transformers, torch, "
               "onnx; `--verbose` before the command shows them)")


class HideNotices(logging.Filter):
    """Drops records below ERROR; the first one dropped in the process prints `HIDDEN_LINE`."""

    hidden = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        if HideNotices.hidden == 0:
            print(HIDDEN_LINE, file=sys.stderr)
        HideNotices.hidden += 1
        return False


def quiet_third_party(env: dict | None = None) -> bool:
    """Hide the noisy loggers' notices below ERROR unless verbose; True when it did."""
    env = os.environ if env is None else env
    if env.get(VERBOSE_ENV, "") not in ("", "0"):
        return False
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, HideNotices) for f in logger.filters):
            logger.addFilter(HideNotices())
    return True
