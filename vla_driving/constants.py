"""Named constants shared by the runtime, training and tests (topics, frames, file names)."""

PACKAGE = "vla_driving"

# Planning horizon shared by labels, model heads and the trajectory message.
NUM_WAYPOINTS = 6
WAYPOINT_DT_S = 0.5
PAST_HORIZON_S = 2.0
# Time between the image frames of one model input, in training samples and at run time.
FRAME_INTERVAL_S = 0.5

# Default topic names (profiles in config/ override them).
TOPIC_ODOMETRY = "/odom"
TOPIC_INSTRUCTION = "/vla/instruction"
TOPIC_TRAJECTORY = "/vla/trajectory"
TOPIC_DECISION = "/vla/decision"
TOPIC_DESCRIPTION = "/vla/description"
TOPIC_MARKERS = "/vla/markers"
TOPIC_PLANNER_STATUS = "/vla/planner_status"
TOPIC_DIAGNOSTICS = "/diagnostics"
TOPIC_CLOCK = "/clock"
# Lockstep handshake (std_msgs/String JSON {now_ns, plan_ns}): the bridge announces each step
# before its /clock, naming the newest frame the planner answered with a plan.
TOPIC_LOCKSTEP = "/sim/lockstep"

FRAME_EGO = "base_link"
FRAME_MAP = "map"

# Environment variable that keeps Fast DDS on this machine (shared memory only).
FASTDDS_PROFILE_ENV = "FASTDDS_DEFAULT_PROFILES_FILE"
FASTDDS_PROFILE_FILE = "fastdds-local.xml"

NS_PER_S = 1_000_000_000
