"""`GenerateConfig.commands`: episodes that draw only from the given commands (e.g. the long
lane keeping the closed loop is judged on)."""

import pytest

from vla_driving.configuration import ConfigError
from vla_driving.data import read_bag
from vla_driving.sim import SimConfig
from vla_driving.sim.commands import command_text
from vla_driving_training.data.episode import run_episode
from vla_driving_training.data.gen_config import GenerateConfig
from vla_driving_training.data.generate import generate, plan

# keep_lane completes after 6 s and is held 1 s: by 8 s an unrestricted schedule has moved on
EPISODE_S = 8.0


def instructions(cfg, tmp_path, seed=0):
    spec = plan(["highway"], 1, seed=seed)[0]
    bag = read_bag(run_episode(spec, tmp_path, cfg)["path"])
    return {text for _, text in bag.instructions}


def test_keep_lane_episodes_keep_the_lane_throughout(tmp_path):
    keep = GenerateConfig(sim=SimConfig(image_size=32), episode_s=EPISODE_S,
                          commands=["keep_lane"])
    assert instructions(keep, tmp_path / "keep") == {command_text("keep_lane")}
    free = GenerateConfig(sim=SimConfig(image_size=32), episode_s=EPISODE_S)
    assert len(instructions(free, tmp_path / "free")) > 1


def test_commands_a_scenario_lacks_or_nobody_knows_are_refused(tmp_path):
    with pytest.raises(ValueError, match="scenario\\(s\\) highway have none of them"):
        generate(plan(["highway"], 1, seed=0), tmp_path, GenerateConfig(commands=["turn_left"]))
    assert not any(tmp_path.iterdir())
    with pytest.raises(ConfigError):
        GenerateConfig(commands=["fly"])
