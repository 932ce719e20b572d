"""ros2 launch vla_driving autoware.launch.py [config:=PATH]: the Autoware profile (Autoware's camera, localization, planning and control topics).

Thin on purpose: the node list and parameters come from the same profile YAML that
`vla-driving run --config config/autoware.yaml` reads (vla_driving.ros.stack.launch_plan).
"""

from vla_driving.ros.launch_profile import profile_launch_description

PROFILE = "autoware.yaml"


def generate_launch_description():
    return profile_launch_description(PROFILE)
