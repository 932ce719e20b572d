"""vla_driving: vision-language-action driving models on ROS 2.

The runtime is ROS-free except `vla_driving.ros`; see DESIGN in the README.
"""

__version__ = "0.1.0"
