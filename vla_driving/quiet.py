"""Third-party start-up noise, hidden at the command line; `VLA_DRIVING_VERBOSE=1` (or
`--verbose` before the command, `vla-driving --verbose run ...`) shows it.

Each entry is a library's own warning about itself that says nothing about this run: torchao's
optional CUDA / Triton kernels missing on a CPU machine, accelerate's "weights are not tied"
for GPTQModel's load of a tied-embedding LLM, transformers' deprecation of the cache argument
name GPTQModel's and our decoder calls still use, torch's notice about enums in pytrees, and
tokenicer's "Auto fixed pad_token_id" (GPTQModel's tokenizer helper, once per tokenizer load).
Errors from these loggers still show.
"""

from __future__ import annotations

import logging
import os

VERBOSE_ENV = "VLA_DRIVING_VERBOSE"
NOISY_LOGGERS = ("torchao", "accelerate.utils.modeling", "transformers.utils.generic",
                 "torch.utils._pytree", "tokenicer")


def quiet_third_party(env: dict | None = None) -> bool:
    """Raise the noisy loggers to ERROR unless verbose; True when it did."""
    env = os.environ if env is None else env
    if env.get(VERBOSE_ENV, "") not in ("", "0"):
        return False
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    return True
