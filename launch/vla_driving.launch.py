"""ros2 launch vla_driving vla_driving.launch.py [config:=PATH]: the vehicle profile (cameras, odometry and control of a real car).

Thin on purpose: the node list and parameters come from the same profile YAML that
`vla-driving run --config config/vehicle.yaml` reads (vla_driving.ros.stack.launch_plan).
"""

from vla_driving.ros.launch_profile import profile_launch_description

PROFILE = "vehicle.yaml"


def generate_launch_description():
    return profile_launch_description(PROFILE)
