"""Evaluation: metrics, camera corruptions, bag replay, closed-loop scoring and reports.

Everything here is ROS-free; the live bag player and the closed-loop harness reach ROS 2 only
through `vla_driving.ros`.
"""
