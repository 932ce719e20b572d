"""Third-party start-up noise is hidden at the command line, unless asked for."""

import logging
import warnings

from vla_driving.quiet import (HIDDEN_LINE, NOISY_LOGGERS, VERBOSE_ENV, HideNotices,
                               is_noisy, quiet_third_party)


def _unquiet():
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and is_noisy(name):
            for f in [f for f in logger.filters if isinstance(f, HideNotices)]:
                logger.removeFilter(f)
    if getattr(logging.getLoggerClass(), "quiets_noisy_children", False):
        logging.setLoggerClass(logging.getLoggerClass().__mro__[1])


def test_noisy_loggers_keep_errors_only_and_say_once_that_they_hid_something(
        caplog, capsys, monkeypatch):
    _unquiet()
    monkeypatch.setattr(HideNotices, "hidden", 0)
    assert quiet_third_party({}) is True
    assert quiet_third_party({}) is True          # twice: still one filter per logger
    logger = logging.getLogger("accelerate.utils.modeling")
    assert sum(isinstance(f, HideNotices) for f in logger.filters) == 1
    with caplog.at_level(logging.INFO):
        logger.warning("The model weights are not tied.")
        logging.getLogger("torchao").warning("no CUDA kernels")
        logger.error("a real failure")
    assert [r.getMessage() for r in caplog.records if r.name == logger.name] == ["a real failure"]
    assert capsys.readouterr().err.splitlines() == [HIDDEN_LINE]
    assert HideNotices.hidden == 2
    _unquiet()


def test_children_of_noisy_loggers_are_hidden_whenever_they_are_created(caplog, capsys,
                                                                       monkeypatch):
    """torchao warned from `torchao.kernel.intmm` while being imported, after the filters were
    set: a parent's filter never sees a child's records, so the demo printed it."""
    _unquiet()
    monkeypatch.setattr(HideNotices, "hidden", 0)
    before = logging.getLogger("torchao.before_quiet")
    assert quiet_third_party({}) is True
    after = logging.getLogger("torchao.kernel.intmm_test")
    unrelated = logging.getLogger("torchaother.module")
    with caplog.at_level(logging.INFO):
        before.warning("Detected no triton")
        after.warning("Detected no triton")
        after.error("a real failure")
        unrelated.warning("kept")
    shown = [(r.name, r.getMessage()) for r in caplog.records]
    assert shown == [(after.name, "a real failure"), (unrelated.name, "kept")]
    assert capsys.readouterr().err.splitlines() == [HIDDEN_LINE]
    assert HideNotices.hidden == 2
    _unquiet()
    assert not getattr(logging.getLoggerClass(), "quiets_noisy_children", False)


def test_verbose_leaves_them_alone():
    _unquiet()
    assert quiet_third_party({VERBOSE_ENV: "1"}) is False
    assert not logging.getLogger("torchao").filters


def test_importing_gptqmodel_leaves_the_root_logger_as_it_was():
    """tokenicer (imported by GPTQModel) calls logging.basicConfig(level=INFO): our INFO lines
    then printed at `vla-driving run`. A fresh process, since GPTQModel imports only once."""
    import subprocess
    import sys

    import pytest
    pytest.importorskip("gptqmodel")
    code = ("import logging; from vla_driving.engines.gptq import import_gptqmodel; "
            "import_gptqmodel(); import tokenicer; r = logging.getLogger(); "
            "print(r.level, len(r.handlers))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    assert out == [str(logging.WARNING), "0"]


def test_verbose_before_the_command_shows_them(tmp_path, monkeypatch, capsys):
    """`vla-driving --verbose run ...`: the flag form of VLA_DRIVING_VERBOSE=1."""
    from vla_driving.commands import dispatch
    from vla_driving.quiet import VERBOSE_ENV
    (tmp_path / "probe_cmd.py").write_text(
        "import logging, os\n"
        "def add_arguments(parser):\n    parser.add_argument('--x', default='')\n"
        "def main(args):\n"
        "    print(repr(os.environ.get('VLA_DRIVING_VERBOSE')),\n"
        "          len(logging.getLogger('torchao').filters))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(VERBOSE_ENV, "")
    commands = [(("probe",), "probe_cmd", "a probe")]
    _unquiet()
    assert dispatch(["--verbose", "probe"], commands, "prog") == 0
    assert capsys.readouterr().out.split() == ["'1'", "0"]
    monkeypatch.setenv(VERBOSE_ENV, "")
    assert dispatch(["probe"], commands, "prog") == 0
    assert capsys.readouterr().out.split() == ["''", "1"]
    _unquiet()


def test_the_onnx_exporters_chatter_is_noisy_and_onnx_runtime_is_not():
    """Each DAgger round exports an encoder; onnxscript's rewriter and constant folding logged
    four INFO lines per export into the round's output."""
    for name in ("onnx_ir.passes", "onnxscript.rewriter",
                 "onnxscript.optimizer._constant_folding", "torch.onnx._internal"):
        assert is_noisy(name), name
    assert not is_noisy("onnxruntime") and not is_noisy("vla_driving.engines.ort_engine")


def test_torchs_own_pytree_deprecation_is_hidden_and_other_warnings_are_not():
    """torch.onnx.export deep-copies its pytree specs, which warned on every bundle export."""
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert quiet_third_party({}) is True
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use ...", FutureWarning)
        warnings.warn("some other deprecation", FutureWarning)
    assert [str(w.message) for w in shown] == ["some other deprecation"]
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert quiet_third_party({VERBOSE_ENV: "1"}) is False
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use ...", FutureWarning)
    assert len(shown) == 1
    _unquiet()
