"""Thin ROS 2 adapters: the only package that imports rclpy or message types.

Everything here converts messages to plain types (`conversions`), declares parameters from the
config dataclasses (`parameters`) and calls the ROS-free cores; import it only where rclpy is
installed (the `ros` extra).
"""
