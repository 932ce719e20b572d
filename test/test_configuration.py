"""Typed config: validation names key, value and range; unknown keys fail; profiles load."""

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from vla_driving.configuration import Config, ConfigError, ROS_PARAMETERS, param
from vla_driving.sensors.config import IngestConfig

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
PROFILES = ("vehicle.yaml", "carla.yaml")
INGEST_NODE = "camera_ingest"


@dataclass
class _Inner(Config):
    gain: float = param(1.0, "a gain", low=0.0, high=2.0)


@dataclass
class _Outer(Config):
    mode: str = param("a", "a mode", choices=("a", "b"))
    inner: _Inner = param(_Inner(), "nested")


@pytest.mark.parametrize("kwargs, key, value, allowed", [
    ({"sync_tolerance_s": 5.0}, "sync_tolerance_s", "5.0", "[0.0, 1.0]"),
    ({"buffer_len": 0}, "buffer_len", "0", "[1, 100]"),
    ({"transport": "theora"}, "transport", "'theora'", "['raw', 'compressed']"),
    ({"cameras": []}, "cameras", "[]", "at least 1"),
    ({"anchor_camera": "rear"}, "anchor_camera", "'rear'", "bev_near"),
    ({"cameras": ["a", "a"]}, "cameras", "['a', 'a']", "unique"),
])
def test_bad_value_names_key_value_and_range(kwargs, key, value, allowed):
    with pytest.raises(ConfigError) as info:
        IngestConfig(**kwargs)
    message = str(info.value)
    assert key in message and value in message and allowed in message


@pytest.mark.parametrize("kwargs, text", [
    ({"history": 2.5}, "history=2.5: expected an integer"),
    ({"hold_max_s": "1"}, "hold_max_s='1': expected a number"),
    ({"max_wait_s": float("nan")}, "must be finite"),
    ({"cameras": "front"}, "expected a list"),
])
def test_wrong_types_are_refused(kwargs, text):
    with pytest.raises(ConfigError, match=text.replace("[", r"\[").replace("(", r"\(")):
        IngestConfig(**kwargs)


def test_unknown_key_is_rejected_not_ignored():
    with pytest.raises(ConfigError, match="camera_ingest.frame_rate: unknown key"):
        IngestConfig.from_dict({"frame_rate": 30}, prefix="camera_ingest.")


def test_nested_errors_carry_the_full_path():
    with pytest.raises(ConfigError, match=r"inner.gain=3.0: out of range \[0.0, 2.0\]"):
        _Outer.from_dict({"inner": {"gain": 3.0}})
    with pytest.raises(ConfigError, match="inner.bias: unknown key"):
        _Outer.from_dict({"inner": {"bias": 1}})


def test_flat_round_trip_and_describe():
    cfg = _Outer(mode="b", inner=_Inner(gain=0.5))
    assert cfg.to_flat() == {"mode": "b", "inner.gain": 0.5}
    assert _Outer.from_flat(cfg.to_flat()) == cfg
    assert [name for name, _, _ in _Outer.describe()] == ["mode", "inner.gain"]
    assert all(doc for _, _, doc in IngestConfig.describe())


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_load_with_one_section_per_node(profile):
    path = CONFIG_DIR / profile
    document = yaml.safe_load(path.read_text())
    assert all(ROS_PARAMETERS in section for section in document.values())
    cfg = IngestConfig.from_yaml(path, INGEST_NODE)
    assert len(cfg.cameras) >= 2 and cfg.anchor in cfg.cameras
    assert all(cfg.topic_for(c).count(c) == 1 for c in cfg.cameras)


def test_carla_profile_uses_the_bridge_topics():
    cfg = IngestConfig.from_yaml(CONFIG_DIR / "carla.yaml", INGEST_NODE)
    assert cfg.topic_for("rgb_front") == "/carla/ego_vehicle/rgb_front/image"
    assert cfg.odometry_topic == "/carla/ego_vehicle/odometry"


def test_bad_yaml_value_names_the_node_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"{INGEST_NODE}:\n  {ROS_PARAMETERS}:\n    history: 0\n")
    with pytest.raises(ConfigError, match=r"camera_ingest.history=0: out of range \[1, 64\]"):
        IngestConfig.from_yaml(path, INGEST_NODE)
    with pytest.raises(ConfigError, match="not found"):
        IngestConfig.from_yaml(tmp_path / "missing.yaml", INGEST_NODE)
