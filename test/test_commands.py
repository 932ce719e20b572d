"""The command dispatcher: a bad path or option is one line on stderr and exit status 2."""

import pytest

from vla_driving.commands import dispatch
from vla_driving.configuration import ConfigError
from vla_driving.quiet import VERBOSE_ENV


@pytest.fixture
def failing(tmp_path, monkeypatch):
    """A command whose main raises what the test puts in `failing.error`."""
    (tmp_path / "failing_cmd.py").write_text(
        "def add_arguments(parser):\n    pass\n"
        "error = None\n"
        "def main(args):\n    raise error\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import failing_cmd
    return failing_cmd


@pytest.mark.parametrize("error", [FileNotFoundError("no bags under data/nowhere"),
                                   ConfigError("preset 'x' unknown")])
def test_a_missing_path_or_a_bad_option_is_one_line(failing, error, capsys, monkeypatch):
    monkeypatch.setenv(VERBOSE_ENV, "")
    failing.error = error
    assert dispatch(["go"], [(("go",), "failing_cmd", "fails")], "prog") == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"prog go: {error}"


def test_verbose_shows_the_traceback_of_a_missing_path(failing, monkeypatch):
    monkeypatch.setenv(VERBOSE_ENV, "1")
    failing.error = FileNotFoundError("no bags under data/nowhere")
    with pytest.raises(FileNotFoundError):
        dispatch(["go"], [(("go",), "failing_cmd", "fails")], "prog")


def test_other_errors_still_raise(failing, monkeypatch):
    monkeypatch.setenv(VERBOSE_ENV, "")
    failing.error = RuntimeError("a bug")
    with pytest.raises(RuntimeError):
        dispatch(["go"], [(("go",), "failing_cmd", "fails")], "prog")
