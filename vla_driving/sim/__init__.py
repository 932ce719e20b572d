"""highway-env simulator behind one ROS-free API (data generation and the bridge node share it)."""

from vla_driving.sim.commands import COMMANDS, command_from_text, command_text
from vla_driving.sim.config import SimConfig
from vla_driving.sim.scenarios import SCENARIOS, get_scenario
from vla_driving.sim.sim import Control, Sim, StepStatus, make_sim

__all__ = ["COMMANDS", "SCENARIOS", "Control", "Sim", "SimConfig", "StepStatus", "command_from_text",
           "command_text", "get_scenario", "make_sim"]
