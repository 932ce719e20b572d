"""Options derived from config dataclasses: declared once, validated like YAML."""

import argparse
from dataclasses import dataclass

import pytest

from vla_driving.config_cli import add_config_arguments, config_from_args
from vla_driving.configuration import Config, ConfigError, param


@dataclass
class Inner(Config):
    cameras: list[str] = param(["front"], "camera names", min_len=1)
    rate_hz: float = param(10.0, "rate", low=1.0, high=30.0)


@dataclass
class Outer(Config):
    mode: str = param("fast", "how to run", choices=("fast", "slow"))
    steps: int = param(3, "steps", low=0)
    verbose: bool = param(False, "say more")
    duration_s: float = param(20.0, "seconds")
    inner: Inner = param(Inner(), "nested")


def _parse(argv, base=None, **kwargs):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, Outer, **kwargs)
    return config_from_args(Outer, parser.parse_args(argv), base)


def test_options_not_given_keep_the_base_values():
    base = Outer(steps=7, inner=Inner(cameras=["a", "b"]))
    assert _parse([], base) == base
    assert _parse([]) == Outer()


def test_every_leaf_field_becomes_a_typed_option():
    cfg = _parse(["--mode", "slow", "--steps", "5", "--verbose", "--inner.cameras", "l", "r",
                  "--inner.rate-hz", "12.5"])
    assert cfg == Outer(mode="slow", steps=5, verbose=True,
                        inner=Inner(cameras=["l", "r"], rate_hz=12.5))
    assert _parse(["--no-verbose"], Outer(verbose=True)).verbose is False


def test_renamed_and_skipped_fields():
    assert _parse(["--duration", "3"], rename={"duration_s": "duration"}).duration_s == 3.0
    with pytest.raises(SystemExit):
        _parse(["--steps", "1"], skip=("steps",))


def test_bad_values_are_refused_like_yaml(capsys):
    with pytest.raises(SystemExit):
        _parse(["--mode", "medium"])  # choices come from the field
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"inner.rate_hz=99.0: out of range \[1.0, 30.0\]"):
        _parse(["--inner.rate-hz", "99"])


def test_help_carries_the_field_documentation():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, Outer)
    text = parser.format_help()
    assert "--inner.rate-hz" in text and "how to run (default: 'fast')" in text


def test_a_bad_option_value_is_one_line_and_rc_2(tmp_path, capsys):
    from vla_driving_training.cli import main

    assert main(["data", "generate", "--out", str(tmp_path), "--sim.image-size", "3"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("vla-train data generate: sim.image_size=3: out of range "
                           "[16, 1024]")
    assert not any(tmp_path.iterdir())  # nothing was written
