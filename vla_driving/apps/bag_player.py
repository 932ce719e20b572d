"""Evaluate the real planner node on recorded bags (`vla-driving eval replay BAG... --live`):
the profile's nodes in-process on /clock, each bag played by `ros.bag_player`, the planner's
outputs collected per bag for `evaluation.live_eval`."""

from __future__ import annotations

import time

from vla_driving.evaluation.live_eval import LiveOutputs
from vla_driving.ros.bag_player import (NODE_NAME, BagPlayer, collect_planner_outputs,
                                        play_bags_live)
from vla_driving.ros.session import plain_node, ros_context
from vla_driving.ros.stack import Stack

__all__ = ["evaluate_live", "play_bags_live"]
DRAIN_S = 2.0             # wall time for the last plans to arrive after a bag ends


def evaluate_live(bags: list[str], profile: str, planner: dict, rate: float = 1.0
                  ) -> dict[str, LiveOutputs]:
    """Start the profile's nodes in-process (on /clock), play each bag, collect the planner's
    outputs per bag. Raises vla_driving.configuration.ConfigError when a node cannot start."""
    with ros_context() as context:
        stack = None
        try:
            stack = Stack(profile, context=context,
                          extra_overrides={"vla_planner": planner}).build()
            collector = plain_node("vla_eval_collector", context)
            outputs: dict = {"now": LiveOutputs()}
            collect_planner_outputs(collector, stack.nodes["vla_planner"].cfg,
                                    lambda stamp, xy: outputs["now"].on_path(stamp, xy),
                                    lambda data: outputs["now"].on_decision(data))
            stack.executor.add_node(collector)
            stack.start()
            player = BagPlayer(plain_node(NODE_NAME, context), rate)
            results = {}
            for bag in bags:
                outputs["now"] = results[bag] = LiveOutputs()
                player.play(bag)
                time.sleep(DRAIN_S)
            return results
        finally:
            if stack is not None:
                stack.destroy()
