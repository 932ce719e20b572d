"""Generated episodes with several camera looks: each episode's look comes from its own seed and
is recorded in its `/sim/episode` info; the bag's images are drawn in that look."""

import numpy as np
import pytest
from highway_env.road.graphics import WorldSurface

from vla_driving.configuration import ConfigError
from vla_driving.data import read_bag
from vla_driving.data.images import decode_image
from vla_driving.sim import SimConfig
from vla_driving_training.data.generate import plan
from vla_driving_training.data.episode import run_episode
from vla_driving_training.data.gen_config import GenerateConfig

LOOKS = ["bev", "highway_env"]
CFG = GenerateConfig(sim=SimConfig(image_size=32), episode_s=1.0, looks=LOOKS)


def test_each_episode_draws_its_look_from_its_seed_and_the_looks_all_occur():
    specs = plan(["highway", "merge"], 8, seed=0)
    looks = [CFG.episode_look(s.seed) for s in specs]
    assert looks == [CFG.episode_look(s.seed) for s in specs]        # deterministic per seed
    assert set(looks) == set(LOOKS)
    assert {GenerateConfig().episode_look(s.seed) for s in specs} == {"bev"}   # the default
    assert CFG.for_episode(specs[0].seed).sim.look == looks[0]


def test_a_sim_look_the_looks_would_replace_is_refused():
    with pytest.raises(ConfigError, match="sim.look='highway_env' is not in looks"):
        GenerateConfig(sim=SimConfig(look="highway_env"))
    assert GenerateConfig(sim=SimConfig(look="highway_env"), looks=LOOKS).episode_look(1) in LOOKS


def test_two_look_generation_records_each_episodes_look(tmp_path):
    specs = plan(["merge"], 4, seed=0)
    recorded = {}
    for spec in specs:
        bag = read_bag(run_episode(spec, tmp_path, CFG)["path"])
        look = bag.episode["look"]
        assert look == CFG.episode_look(spec.seed) == bag.episode["config"]["sim"]["look"]
        _, fmt, data = bag.images["bev_near"][0]
        img = decode_image(fmt, data)
        grey = np.all(np.abs(img.astype(int) - WorldSurface.GREY) <= 6, axis=-1).mean()
        recorded[look] = grey       # highway-env fills its whole view grey, ours is green
    assert set(recorded) == set(LOOKS)
    assert recorded["highway_env"] > 0.5 > recorded["bev"]
