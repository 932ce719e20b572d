"""The one contract `DrivingPolicy.infer(observation) -> Plan`, its policies, wrappers and the
ROS-free planning cycle (`PlannerCore`)."""
