"""Settings of simulator episode generation (`vla-train data generate`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.sim import SimConfig
from vla_driving.sim.commands import COMMANDS
from vla_driving.sim.config import BEV_LOOK, LOOKS

FORMATS = ("mcap", "sqlite3")
LOOK_STREAM = 0x100C   # keeps the look draw apart from the episode's other seeded draws


@dataclass
class GenerateConfig(Config):
    sim: SimConfig = param(SimConfig(), "simulator settings (rates, ego limits, cameras)")
    looks: list[str] = param([BEV_LOOK], "camera looks; each episode draws one from its seed "
                             "(replaces sim.look): train on several to test on another's",
                             choices=LOOKS, min_len=1)
    episode_s: float = param(20.0, "episode length in seconds (shorter if the map ends)",
                             low=1.0, high=600.0)
    storage: str = param("mcap", "rosbag2 storage plugin", choices=FORMATS)
    jpeg_quality: int = param(90, "JPEG quality of the camera images", low=10, high=100)
    command_hold_s: float = param(1.0, "time a completed command is kept before the next one",
                                  low=0.0, high=10.0)
    stop_hold_s: float = param(3.0, "time a completed stop is held (idle frames)", low=0.0,
                               high=30.0)
    command_timeout_s: float = param(10.0, "a command not completed by then is replaced",
                                     low=1.0, high=120.0)
    commands: list[str] = param([], "commands the episodes draw from, among each scenario's "
                                "(empty: all of the scenario's); e.g. keep_lane for the long "
                                "lane keeping the closed loop is judged on", choices=COMMANDS)
    stamp_offset_s: int = param(1_700_000_000, "epoch seconds of an episode's first frame "
                                "(fixed, so bags are identical for a seed)", low=0)

    def validate(self) -> None:
        if self.sim.look != BEV_LOOK and self.sim.look not in self.looks:
            raise ConfigError(f"sim.look={self.sim.look!r} is not in looks={self.looks}: the "
                              "generator draws each episode's look from looks; set looks")

    def scenario_commands(self, available: tuple[str, ...]) -> tuple[str, ...]:
        """The commands an episode draws from, of the scenario's `available` ones."""
        return tuple(c for c in available if not self.commands or c in self.commands)

    def episode_look(self, seed: int) -> str:
        """The camera look of the episode with `seed`: the same for that seed on any worker."""
        if len(self.looks) == 1:
            return self.looks[0]
        rng = np.random.default_rng([LOOK_STREAM, int(seed)])
        return self.looks[int(rng.integers(len(self.looks)))]

    def for_episode(self, seed: int) -> "GenerateConfig":
        """This config with `sim.look` set to the episode's look."""
        sim = dataclasses.replace(self.sim, look=self.episode_look(seed))
        return dataclasses.replace(self, sim=sim)
