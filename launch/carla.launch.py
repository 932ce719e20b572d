"""ros2 launch vla_driving carla.launch.py [config:=PATH]: the carla-ros-bridge topic layout (run CARLA and its ROS bridge separately).

Thin on purpose: the node list and parameters come from the same profile YAML that
`vla-driving run --config config/carla.yaml` reads (vla_driving.ros.stack.launch_plan).
"""

from vla_driving.ros.launch_profile import profile_launch_description

PROFILE = "carla.yaml"


def generate_launch_description():
    return profile_launch_description(PROFILE)
