"""The command schedule on a real simulator: completion, hold times, timeout."""

import numpy as np

from vla_driving.sim import SimConfig, make_sim
from vla_driving_training.data.schedule import CommandSchedule

CFG = SimConfig(image_size=16)


def drive(schedule, sim, steps):
    log = []
    for _ in range(steps):
        command, done = schedule.update(sim, sim.time_s)
        log.append((round(sim.time_s, 1), command, done))
        sim.step(sim.expert_action(command))
    return log


def test_completed_stop_is_held_then_replaced():
    sim = make_sim("racetrack", seed=2, cfg=CFG)
    schedule = CommandSchedule(np.random.default_rng(0), ("stop",), hold_s=1.0, timeout_s=30.0,
                               stop_hold_s=3.0)
    log = drive(schedule, sim, 150)
    done_times = [t for t, c, d in log if c == "stop" and d]
    switch = next(t for t, c, _ in log if c != "stop")
    assert done_times and switch - done_times[0] >= 3.0 - 1e-6
    assert next(c for _, c, _ in log if c != "stop") == "keep_lane"   # only feasible fallback


def test_a_command_that_cannot_complete_times_out():
    sim = make_sim("highway", seed=0, cfg=CFG)
    schedule = CommandSchedule(np.random.default_rng(0), ("speed_up", "slow_down"), hold_s=1.0,
                               timeout_s=2.0)
    log = drive(schedule, sim, 60)
    commands = [c for _, c, _ in log]
    changes = sum(a != b for a, b in zip(commands, commands[1:]))
    assert changes >= 2                       # at most ~2 s per command
