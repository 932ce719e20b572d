"""Settings of simulator episode generation (`vla-train data generate`)."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, param
from vla_driving.sim import SimConfig

FORMATS = ("mcap", "sqlite3")


@dataclass
class GenerateConfig(Config):
    sim: SimConfig = param(SimConfig(), "simulator settings (rates, ego limits, cameras)")
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
    stamp_offset_s: int = param(1_700_000_000, "epoch seconds of an episode's first frame "
                                "(fixed, so bags are identical for a seed)", low=0)
