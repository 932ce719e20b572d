"""Third-party start-up noise, hidden at the command line; `VLA_DRIVING_VERBOSE=1` (or
`--verbose` before the command, `vla-driving --verbose run ...`) shows it.

Each entry is a library's own warning about itself that says nothing about this run: torchao's
optional CUDA / Triton kernels missing on a CPU machine, accelerate's "weights are not tied"
for GPTQModel's load of a tied-embedding LLM, transformers' deprecation of the cache argument
name GPTQModel's and our decoder calls still use, torch's notice about enums in pytrees, and
tokenicer's "Auto fixed pad_token_id" (GPTQModel's tokenizer helper, once per tokenizer load).
Errors from these loggers still show. The first notice hidden in a process is replaced by
one line saying so, so that nothing disappears without a trace. One Python warning is ignored
as well (`NOISY_WARNINGS`, also filtered in the tests): torch's ONNX exporter deep-copies its
own pytree specs and so trips torch's own deprecation of `LeafSpec`.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

VERBOSE_ENV = "VLA_DRIVING_VERBOSE"
NOISY_LOGGERS = ("torchao", "accelerate.utils.modeling", "transformers.utils.generic",
                 "torch.utils._pytree", "tokenicer", "onnx_ir", "onnxscript", "torch.onnx")
# (category, message regex): warnings that torch raises about its own internals
NOISY_WARNINGS = ((FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),)
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


def is_noisy(name: str) -> bool:
    """A noisy logger or one of its children."""
    return any(name == n or name.startswith(n + ".") for n in NOISY_LOGGERS)


def _hide(logger: logging.Logger) -> None:
    if not any(isinstance(f, HideNotices) for f in logger.filters):
        logger.addFilter(HideNotices())


def _quiet_logger_class(base: type) -> type:
    """A logger filter does not see its children's records (they propagate to handlers, not
    to the parent's filters), and torchao warns from `torchao.kernel.intmm` while it is being
    imported: so every logger created under a noisy name gets the filter at creation."""

    class QuietChildren(base):
        quiets_noisy_children = True

        def __init__(self, name, level=logging.NOTSET):
            super().__init__(name, level)
            if is_noisy(name):
                _hide(self)

    return QuietChildren


def is_verbose(env: dict | None = None) -> bool:
    """`VLA_DRIVING_VERBOSE` set to anything but "" or "0" (`--verbose` before a command)."""
    return (os.environ if env is None else env).get(VERBOSE_ENV, "") not in ("", "0")


def quiet_third_party(env: dict | None = None) -> bool:
    """Hide the noisy loggers' notices below ERROR unless verbose; True when it did."""
    if is_verbose(env):
        return False
    for name in NOISY_LOGGERS:
        _hide(logging.getLogger(name))
    for category, message in NOISY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and is_noisy(name):
            _hide(logger)
    base = logging.getLoggerClass()
    if not getattr(base, "quiets_noisy_children", False):
        logging.setLoggerClass(_quiet_logger_class(base))
    return True
