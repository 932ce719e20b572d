"""Closed-loop routes, ROS-free part: route definition, per-step tracking from the simulator's
ground truth, and the IDM/MOBIL expert baseline driven directly in the same scoring harness.

The model and the constant-velocity baseline drive through the real ROS 2 nodes
(`vla_driving.apps.closed_loop_runner`); every route, whoever drives, is scored by the same
`RouteTracker` fed by `track_step` after each simulator step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vla_driving.configuration import Config, param
from vla_driving.sim.bridge import CONTROL_TYPES, SimBridgeConfig
from vla_driving.sim.commands import KEEP_LANE, command_from_text
from vla_driving.sim.config import LOOKS
from vla_driving.evaluation.closed_loop_scoring import (
    DEFAULT_LEADERBOARD, LEADERBOARDS, RouteLog, RouteTracker)
from vla_driving.evaluation.profiles import profile_path

SIM_PROFILE = profile_path("sim.yaml")
BRIDGE_SECTION = "sim_bridge"
EXPERT = "expert_idm_mobil"
END_MARGIN_S = 5.0   # the simulator's own time limit sits past the route's


@dataclass
class ClosedLoopConfig(Config):
    """Routes to drive and how they are scored."""

    scenarios: list[str] = param(["highway"], "simulator scenarios", min_len=1)
    seeds: list[int] = param([1000], "episode seeds (held out: training uses low seeds)",
                             min_len=1)
    duration_s: float = param(20.0, "simulated time per route", low=1.0, high=3600.0)
    route_speed_fraction: float = param(
        0.8, "route length = this x the scenario's cruise speed x duration: a car at 80 % of "
             "the traffic's cruise speed completes it", low=0.1, high=1.0)
    instruction: str = param("keep the current lane", "driving instruction of every route")
    leaderboard: str = param(DEFAULT_LEADERBOARD, "CARLA leaderboard version whose penalties "
                             "score the routes (the report also gives the others)",
                             choices=LEADERBOARDS)
    profile: str = param(str(SIM_PROFILE), "sim profile YAML (bridge, planner, controller)")
    control: str = param("", "control message from the controller to the simulator bridge "
                         "(its output adapter): twist, ackermann, carla or autoware; empty: the "
                         "profile's", choices=("",) + CONTROL_TYPES)
    look: str = param("", "camera look of the routes ('' = the profile's): bev or highway_env "
                      "(highway-env's own viewer graphics, as an outside harness renders them)",
                      choices=("",) + LOOKS)


def bridge_config(cfg: ClosedLoopConfig, scenario: str, seed: int) -> SimBridgeConfig:
    """The profile's bridge config for one route: its scenario, seed, instruction, no reset
    (and the control type and camera look, when the route config names them)."""
    base = SimBridgeConfig.from_yaml(cfg.profile, BRIDGE_SECTION)
    sim = base.sim.to_dict()
    sim["max_duration_s"] = cfg.duration_s + END_MARGIN_S
    if cfg.look:
        sim["look"] = cfg.look
    control = {"control_type": cfg.control} if cfg.control else {}
    return SimBridgeConfig.from_dict({**base.to_dict(), "scenario": scenario, "seed": seed,
                                      "instruction": cfg.instruction, "reset_on_done": False,
                                      "sim": sim, **control})


def new_route(sim, cfg: ClosedLoopConfig, scenario: str, seed: int, policy: str) -> RouteTracker:
    length = cfg.route_speed_fraction * float(sim.expert.cruise_speed) * cfg.duration_s
    return RouteTracker(RouteLog(scenario, seed, policy, route_length_m=length,
                                 instruction=cfg.instruction))


def track_step(tracker: RouteTracker, sim, status, command: str | None) -> None:
    """Feed one simulator step's ground truth to the tracker; end the route when the sim does."""
    ego = sim.ego_state()
    gt = sim.ground_truth()
    box = [ego.x, ego.y, ego.yaw, float(sim.ego.LENGTH), float(sim.ego.WIDTH)]
    agents = [a.__dict__ for a in gt.agents]
    done = bool(command) and sim.instruction_completed(command)
    tracker.step(sim.time_s, ego.x, ego.y, box, gt.collision, gt.off_road, agents, done,
                 ego_speed=float(ego.speed), ego_yaw_rate=float(ego.yaw_rate))
    if status is not None and status.done:
        tracker.end("collision" if status.collision else "off_road" if status.off_road
                    else "timeout" if status.timeout else "route_end")


def instruction_command(cfg: ClosedLoopConfig) -> str:
    return command_from_text(cfg.instruction) or KEEP_LANE


def run_expert_route(cfg: ClosedLoopConfig, scenario: str, seed: int,
                     record_to: str | Path | None = None) -> RouteLog:
    """The IDM/MOBIL shadow expert drives the simulator itself (no ROS), scored the same way;
    with `record_to` the route is also written as a bag for open-loop replay."""
    from vla_driving.sim import make_sim
    bridge = bridge_config(cfg, scenario, seed)
    sim = make_sim(scenario, seed, bridge.sim)
    command = instruction_command(cfg)
    tracker = new_route(sim, cfg, scenario, seed, EXPERT)
    recorder = None
    if record_to is not None:
        from vla_driving.evaluation.episode_recorder import EpisodeRecorder
        recorder = EpisodeRecorder(record_to, list(bridge.sim.cameras), bridge.camera_every,
                                   int(bridge.start_time_s * 1e9))
        recorder.describe({"scenario": scenario, "seed": seed, "driver": EXPERT})
    try:
        track_step(tracker, sim, None, command)
        while sim.time_s < cfg.duration_s and not tracker.ended:
            if recorder is not None:
                recorder.record(sim, cfg.instruction)
            status = sim.step(sim.expert_action(command))
            track_step(tracker, sim, status, command)
    finally:
        sim.close()
        if recorder is not None:
            recorder.close()
    tracker.end("time")
    return tracker.log
