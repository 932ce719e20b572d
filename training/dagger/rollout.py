"""One DAgger rollout: the current policy drives a route in the lockstep closed loop (the
shadow expert takes over for whole segments with probability `beta`), and every visited state
is recorded as the generator records the expert's episodes, plus the expert's own future from
each labelled frame (`/sim/expert/future`): the label of a state the policy drove into.

A rollout is a task of `vla_driving.evaluation.sweep.run_sweep` (in this process or on Ray): it
depends on its task alone (seeded), so a round's data does not depend on the number of workers.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import Writer

from vla_driving.constants import NS_PER_S
from vla_driving.data import topics as TP
from vla_driving.data.labels import HORIZON_S
from vla_driving.evaluation.closed_loop import (ClosedLoopConfig, new_route, track_step)
from vla_driving.evaluation.closed_loop_scoring import score_route
from vla_driving.evaluation.lockstep import LockstepLoop, profile_configs
from vla_driving.evaluation.sweep import task_policy
from vla_driving.sim import command_text

from ..data import messages as M
from ..data.episode import BAG_VERSION, PLUGINS, BagOut, camera_infos, write_frame
from ..data.gen_config import GenerateConfig
from ..data.references import add_reference_texts

LABEL_MARGIN_S = 0.2        # the expert's future reaches past the 3 s label horizon
# HG-DAgger's gate (`RolloutTask.intervene`): the expert takes the rest of a segment over when
# the policy is this far off its lane, or the expert would brake this hard
INTERVENE_OFFSET_M = 1.0
INTERVENE_HEADING_RAD = 0.2
INTERVENE_BRAKE = 3.0


@dataclass(frozen=True)
class RolloutTask:
    """One route the policy drives; `planner` overrides the sim profile's planner (the round's
    bundle). `policy`/`scenario`/`seed` name it in sweep reports."""

    scenario: str
    seed: int
    command: str
    beta: float                 # chance that the expert drives a segment
    round: int
    out: str                    # the round's episode directory
    planner: tuple
    segment_s: float = 2.0      # the expert or the policy drives this long at a time
    label_every_s: float = 0.5  # a frame (cameras + expert future) every this long
    look: str = ""              # camera look of the route ('' = the profile's)
    intervene: bool = False     # the expert also takes over where the policy goes wrong
    policy: str = "dagger"

    @property
    def name(self) -> str:
        look = f"_{self.look}" if self.look else ""
        return f"{self.scenario}_r{self.round:02d}_{self.command}{look}_s{self.seed}"


def run_rollout(cfg_dict: dict, task: RolloutTask) -> dict:
    """Drive, label and record one route; returns its summary row (with its driving score)."""
    cfg = ClosedLoopConfig.from_dict({**cfg_dict, "instruction": command_text(task.command),
                                      "look": task.look})
    bridge_cfg, planner_cfg, controller_cfg = profile_configs(cfg, task.scenario, task.seed,
                                                              dict(task.planner))
    loop = LockstepLoop(bridge_cfg, planner_cfg, controller_cfg, task_policy(cfg, task))
    sim = loop.bridge.sim
    label_steps = _label_steps(task, sim.cfg.step_hz, bridge_cfg.camera_every)
    segment_steps = max(1, round(task.segment_s * sim.cfg.step_hz))
    rng = np.random.default_rng([task.seed, task.round, int(task.beta * 1000)])
    gen = GenerateConfig(sim=sim.cfg, looks=[sim.cfg.look])
    offset = gen.stamp_offset_s * NS_PER_S
    path = Path(task.out) / task.name
    tracker = new_route(sim, cfg, task.scenario, task.seed, task.policy)
    frames = expert_steps = interventions = 0
    try:
        with Writer(path, version=BAG_VERSION, storage_plugin=PLUGINS[gen.storage]) as writer:
            out = BagOut(writer, sim.cfg.cameras, extra=((TP.TOPIC_SIM_EXPERT_FUTURE, M.STRING),),
                         infos=camera_infos(sim.cfg))
            _header(out, sim, task, offset)
            track_step(tracker, sim, None, task.command)
            expert_on = False
            while sim.time_s < cfg.duration_s and not tracker.ended:
                loop.exchange()
                action = sim.expert_action(task.command)   # keeps the expert's intent current
                if sim.steps % segment_steps == 0:
                    expert_on = bool(rng.random() < task.beta)
                elif task.intervene and not expert_on and _astray(sim, action):
                    expert_on, interventions = True, interventions + 1
                frames += _record(out, sim, task.command, offset, gen, loop.images,
                                  labelled=sim.steps % label_steps == 0)
                expert_steps += expert_on
                status = loop.advance(action if expert_on else None)
                track_step(tracker, sim, status, task.command)
            tracker.end("time")
    finally:
        loop.close()
    add_reference_texts(path)          # the labelled frames' texts, as the generator's bags
    row = score_route(tracker.log, cfg.leaderboard)
    row.update(episode=task.name, path=str(path), frames=frames, round=task.round,
               beta=task.beta, command=task.command,
               expert_share=expert_steps / max(sim.steps, 1), interventions=interventions,
               sim_s=sim.time_s)
    return row


def _label_steps(task: RolloutTask, step_hz: float, camera_every: int) -> int:
    """Simulator steps between labelled frames: a multiple of the camera period."""
    steps = max(1, round(task.label_every_s * step_hz))
    if steps % camera_every:
        raise ValueError(f"label_every_s={task.label_every_s} is not a multiple of the camera "
                         f"period ({camera_every / step_hz} s)")
    return steps


def _record(out: BagOut, sim, command: str, offset: int, gen: GenerateConfig, images: dict,
            labelled: bool) -> int:
    """This step in the bag: a labelled frame (returns 1) or the odometry alone (0)."""
    stamp = offset + sim.stamp_ns
    if labelled:
        _label(out, sim, command, stamp, offset, gen, images)
        return 1
    s = sim.ego_state()
    out.put(f"{TP.CARLA_PREFIX}/odometry", stamp,
            M.odometry(stamp, s.x, s.y, s.yaw, s.speed, s.yaw_rate))
    return 0


def _astray(sim, action) -> bool:
    """The policy is off its lane or heading, or heads for something the expert brakes for:
    without the takeover such rollouts end in the first failure, and the states that lead to
    it (the ones whose labels matter) are few."""
    offset, heading = sim.expert.lane_error()
    return (abs(offset) > INTERVENE_OFFSET_M or abs(heading) > INTERVENE_HEADING_RAD
            or action.acceleration < -INTERVENE_BRAKE)


def _header(out: BagOut, sim, task: RolloutTask, offset: int) -> None:
    info = {"scenario": task.scenario, "seed": task.seed, "index": task.round,
            "cruise_speed": sim.expert.cruise_speed,
            "dagger": {k: v for k, v in asdict(task).items() if k != "planner"}
            | {"planner": dict(task.planner)}}
    out.put(TP.TOPIC_SIM_EPISODE, offset, M.string(json.dumps(info, sort_keys=True, default=str)))
    out.put(TP.TOPIC_SIM_LANES, offset, M.string(json.dumps([asdict(g) for g in sim.lanes])))


def _label(out: BagOut, sim, command: str, stamp: int, offset: int, gen: GenerateConfig,
           images: dict) -> None:
    """A recorded frame of the state the policy reached, and the expert's future from it."""
    write_frame(out, sim, stamp, command, sim.instruction_completed(command), gen, images)
    future = sim.expert_future(command, HORIZON_S + LABEL_MARGIN_S)
    future["t_ns"] = [offset + t for t in future["t_ns"]]
    out.put(TP.TOPIC_SIM_EXPERT_FUTURE, stamp, M.string(json.dumps(future)))


def rollout_tasks(scenarios: list[str], commands: dict[str, list[str]], routes: int, round_: int,
                  beta: float, out: str | Path, planner: dict, seed: int,
                  looks: tuple[str, ...] = ("",), intervene: bool = False
                  ) -> list[RolloutTask]:
    """`routes` rollouts per scenario; seeds and commands drawn from (seed, round), so a round's
    tasks are fixed whatever runs them. Keep-lane is half of the commands; the rest are the
    scenario's others (the instructions the closed loop is judged on). Camera looks take turns
    over a scenario's routes."""
    rng = np.random.default_rng([seed, round_, 7919])
    tasks = []
    for scenario in scenarios:
        others = [c for c in commands[scenario] if c != "keep_lane"]
        for i in range(routes):
            command = "keep_lane" if not others or rng.random() < 0.5 else str(rng.choice(others))
            route_seed = int(rng.integers(10_000, 2**31 - 1))
            tasks.append(RolloutTask(scenario, route_seed, command, float(beta), round_, str(out),
                                     tuple(sorted(planner.items())),
                                     look=looks[i % len(looks)], intervene=intervene))
    return tasks


def beta_schedule(beta0: float, decay: float, round_: int) -> float:
    """The expert's share in round `round_` (DAgger's decaying mixture)."""
    return float(beta0 * math.pow(decay, round_))
