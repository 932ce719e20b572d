"""ros2 launch vla_driving sim.launch.py [config:=PATH]: the highway-env simulator bridge + planner + controller (closed loop).

Thin on purpose: the node list and parameters come from the same profile YAML that
`vla-driving run --config config/sim.yaml` reads (vla_driving.ros.stack.launch_plan).
"""

from vla_driving.ros.launch_profile import profile_launch_description

PROFILE = "sim.yaml"


def generate_launch_description():
    return profile_launch_description(PROFILE)
