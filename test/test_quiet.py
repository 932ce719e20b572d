"""Third-party start-up noise is hidden at the command line, unless asked for."""

import logging

from vla_driving.quiet import NOISY_LOGGERS, VERBOSE_ENV, quiet_third_party


def test_noisy_loggers_keep_errors_only(caplog):
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    assert quiet_third_party({}) is True
    logger = logging.getLogger("accelerate.utils.modeling")
    with caplog.at_level(logging.INFO):
        logger.warning("The model weights are not tied.")
        logger.error("a real failure")
    assert [r.getMessage() for r in caplog.records if r.name == logger.name] == ["a real failure"]


def test_verbose_leaves_them_alone():
    logging.getLogger("torchao").setLevel(logging.NOTSET)
    assert quiet_third_party({VERBOSE_ENV: "1"}) is False
    assert logging.getLogger("torchao").level == logging.NOTSET


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
        "          logging.getLogger('torchao').level)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(VERBOSE_ENV, "")
    commands = [(("probe",), "probe_cmd", "a probe")]
    logging.getLogger("torchao").setLevel(logging.NOTSET)
    assert dispatch(["--verbose", "probe"], commands, "prog") == 0
    assert capsys.readouterr().out.split() == ["'1'", "0"]
    monkeypatch.setenv(VERBOSE_ENV, "")
    assert dispatch(["probe"], commands, "prog") == 0
    assert capsys.readouterr().out.split() == ["''", str(logging.ERROR)]
