"""Trace one route of the fast closed loop: what the car did, what was ahead of it, what the
model planned and what the shadow expert would have done, every half second. For finding out
why a route fails (docs/training.md, "Braking for a closing lead").

    .venv/bin/python scripts/trace_route.py --scenario highway --seed 1000 --duration 10 \
        [--bundle models/default] [--every 5]

Columns: sim time, ego speed, the nearest vehicle ahead in the ego's lane (gap, its speed: the
lead of the lead-car loss, `nearest_lead`), the plan's distance at 1 s and 3 s and its lateral
offset at 3 s, the expert's speed after 1 s and its distance over 3 s (its own rollout on a copy
of the simulator, `Sim.expert_future`), and the model's meta-action.
"""

from __future__ import annotations

import argparse

import numpy as np

from vla_driving.constants import WAYPOINT_DT_S
from vla_driving.evaluation.closed_loop import (ClosedLoopConfig, instruction_command, new_route,
                                                track_step)
from vla_driving.evaluation.closed_loop_scoring import score_route
from vla_driving.evaluation.lockstep import LockstepLoop, profile_configs
from vla_driving.policy.factory import make_policy
from vla_driving.quiet import quiet_third_party
from vla_driving_training.data.lead import nearest_lead


def expert_row(sim, command: str) -> tuple[float, float]:
    """The expert's speed 1 s ahead and its distance driven over 3 s, from this state."""
    fut = sim.expert_future(command, 3.0)
    steps = int(round(sim.cfg.step_hz))
    path = np.hypot(np.diff(fut["x"]), np.diff(fut["y"]))
    return fut["speed"][min(steps, len(fut["speed"]) - 1)], float(path.sum())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="highway")
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--bundle", default="models/default")
    p.add_argument("--instruction", default="keep the current lane")
    p.add_argument("--every", type=int, default=5, help="simulator steps between rows")
    args = p.parse_args()
    quiet_third_party()   # as the CLIs do: third-party start-up notices hidden
    cfg = ClosedLoopConfig(scenarios=[args.scenario], seeds=[args.seed],
                           duration_s=args.duration, instruction=args.instruction)
    bridge, planner, controller = profile_configs(cfg, args.scenario, args.seed,
                                                  {"bundle": args.bundle})
    plans = []

    def recorded(result) -> None:
        if result.plan is not None:
            plans.append(result.plan)

    policy = make_policy(planner)
    loop = LockstepLoop(bridge, planner, controller, policy, on_cycle=recorded)
    sim, command = loop.bridge.sim, instruction_command(cfg)
    tracker = new_route(sim, cfg, args.scenario, args.seed, "model")
    track_step(tracker, sim, None, command)
    i1, i3 = round(1.0 / WAYPOINT_DT_S) - 1, round(3.0 / WAYPOINT_DT_S) - 1
    print("   t  speed  lead gap@speed  plan 1s  plan 3s  lat 3s  expert v1s  expert 3s  meta")
    steps = 0
    while sim.time_s < args.duration and not tracker.ended:
        track_step(tracker, sim, loop.step(), command)
        steps += 1
        if steps % args.every:
            continue
        ego = sim.ego_state()
        lead = nearest_lead(sim.ground_truth().to_dict(), (ego.x, ego.y, ego.yaw))
        ev, ed = expert_row(sim, command)
        wp = plans[-1].waypoints if plans else np.full((i3 + 1, 2), np.nan)
        meta = plans[-1].meta_action if plans else None
        print(f"{sim.time_s:5.1f} {ego.speed:6.2f}  "
              f"{'%5.1f m @ %4.1f' % lead if lead else '     none     '}  "
              f"{np.hypot(*wp[i1]):6.1f}m {np.hypot(*wp[i3]):6.1f}m {wp[i3][1]:+6.2f}m "
              f"{ev:9.2f}  {ed:8.1f}m  {meta or ''}")
    tracker.end("time")
    score = score_route(tracker.log)
    print(f"ended at {sim.time_s:.1f} s ({tracker.log.ended_by}): DS {score['driving_score']:.1f}, "
          f"route completion {score['route_completion']:.1f} %")
    loop.close()
    policy.close()              # its text thread, before the interpreter exits


if __name__ == "__main__":
    main()
