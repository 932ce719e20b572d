"""`eval closed-loop --look`: the routes' camera look reaches the simulator of both loops."""

import argparse

import numpy as np
import pytest
from highway_env.road.graphics import WorldSurface

from vla_driving.apps import eval_closed_loop
from vla_driving.config_cli import config_from_args
from vla_driving.evaluation.closed_loop import ClosedLoopConfig
from vla_driving.evaluation.lockstep import profile_configs
from vla_driving.sim.bridge import LockstepBridge
from vla_driving.sim.highway_render import HighwayEnvRenderer


def grey_share(img: np.ndarray) -> float:
    return float(np.all(img == WorldSurface.GREY, axis=-1).mean())


def test_the_look_option_is_a_cli_flag():
    parser = argparse.ArgumentParser()
    eval_closed_loop.add_arguments(parser)
    args = parser.parse_args(["--fast", "--look", "highway_env"])
    cfg = config_from_args(ClosedLoopConfig, args, eval_closed_loop.CLI_DEFAULTS)
    assert cfg.look == "highway_env"
    with pytest.raises(SystemExit):
        parser.parse_args(["--look", "photo"])


def test_the_look_reaches_the_lockstep_bridges_sim_and_empty_keeps_the_profiles():
    views = {}
    for look in ("", "highway_env"):
        bridge_cfg, _, _ = profile_configs(ClosedLoopConfig(look=look), "highway", 1000)
        bridge = LockstepBridge(bridge_cfg)
        views[look] = bridge.sim.render_cameras()
        bridge.close()
        assert (bridge_cfg.sim.look == "highway_env") == (look == "highway_env")
        assert all(isinstance(r, HighwayEnvRenderer) == bool(look)
                   for r in bridge.sim.renderers.values())
    assert grey_share(views["highway_env"]["bev_near"]) > 0.5
    assert grey_share(views[""]["bev_near"]) < 0.1


def test_the_ros_runner_passes_the_look_to_the_bridge_node():
    pytest.importorskip("rclpy")
    from vla_driving.apps.closed_loop_runner import _overrides
    bridge = _overrides(ClosedLoopConfig(look="highway_env"), "highway", 1000, {})["sim_bridge"]
    assert bridge["sim.look"] == "highway_env"
    assert "sim.look" not in _overrides(ClosedLoopConfig(), "highway", 1000, {})["sim_bridge"]
