"""The planner's input sources and its lockstep decision, on plain converted messages."""

from vla_driving.constants import NS_PER_S
from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
from vla_driving.policy.planner import PlannerCore
from vla_driving.policy.planner_config import PlannerConfig
from vla_driving.policy.planner_inputs import (COMPRESSED_IMAGE, IMAGE, INSTRUCTION, ODOMETRY,
                                               InputSource)
from vla_driving.sensors import Ingest, RawImage
from vla_driving.sensors.odometry import OdometryFields

MS = NS_PER_S // 1000


def core(**cfg):
    c = PlannerConfig(policy="constant_velocity", **cfg)
    return PlannerCore(c, ConstantVelocityPolicy(), Ingest(c.ingest))


def odom(stamp_ns):
    return OdometryFields(stamp_ns, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 5.0, 0.0, 0.0)


def image():
    return RawImage(4, 4, "rgb8", 12, bytes(48))


def test_sources_follow_the_ingest_config_in_model_order():
    pc = core(ingest={"cameras": ["a", "b"], "camera_topic": "/cam/{camera}/image",
                      "odometry_topic": "/odom", "instruction_topic": "/say"})
    assert pc.sources() == [InputSource("/cam/a/image", IMAGE, "a"),
                            InputSource("/cam/b/image", IMAGE, "b"),
                            InputSource("/odom", ODOMETRY, ODOMETRY),
                            InputSource("/say", INSTRUCTION, INSTRUCTION)]
    compressed = core(ingest={"cameras": ["a"], "transport": "compressed"}).sources()
    assert compressed[0].kind == COMPRESSED_IMAGE


def test_inputs_reach_the_ingest_and_images_are_timed():
    pc = core(ingest={"cameras": ["a"]})
    src = {s.slot: s for s in pc.sources()}
    assert pc.inputs.on_input(src[INSTRUCTION], "turn left", None, 5 * MS) is None
    assert pc.inputs.on_input(src[ODOMETRY], odom(10 * MS), None, 10 * MS) is None
    assert pc.inputs.on_input(src["a"], image(), 10 * MS, 10 * MS) is None
    assert pc.ingest.instruction == "turn left" and pc.ingest.ego.stamp_ns == 10 * MS
    assert len(pc.ingest.history()) == 1 and len(pc.latencies["decode"]) == 1


def test_lockstep_plans_each_set_once_when_its_odometry_has_arrived():
    pc = core(sync_with_frames=True, ingest={"cameras": ["a"]})
    src = {s.slot: s for s in pc.sources()}
    pc.inputs.on_input(src[ODOMETRY], odom(90 * MS), None, 100 * MS)
    pc.inputs.on_input(src["a"], image(), 100 * MS, 100 * MS)
    assert not pc.inputs.frame_ready()          # odometry is older than the set
    pc.inputs.on_input(src[ODOMETRY], odom(100 * MS), None, 100 * MS)
    assert pc.inputs.frame_ready()
    assert not pc.inputs.frame_ready()          # once per set


def test_timer_mode_never_plans_on_arrival():
    pc = core(ingest={"cameras": ["a"]})
    src = {s.slot: s for s in pc.sources()}
    pc.inputs.on_input(src[ODOMETRY], odom(100 * MS), None, 100 * MS)
    pc.inputs.on_input(src["a"], image(), 100 * MS, 100 * MS)
    assert not pc.inputs.frame_ready()


def test_lockstep_can_wait_for_the_bridges_first_instruction():
    """The bridge sends its instruction before the first frame; over DDS it may come after it,
    and a first plan without it differs from one with it."""
    pc = core(sync_with_frames=True, sync_wait_instruction=True, ingest={"cameras": ["a"]})
    src = {s.slot: s for s in pc.sources()}
    pc.inputs.on_input(src[ODOMETRY], odom(100 * MS), None, 100 * MS)
    pc.inputs.on_input(src["a"], image(), 100 * MS, 100 * MS)
    assert not pc.inputs.frame_ready()          # no instruction yet
    pc.inputs.on_input(src[INSTRUCTION], "keep the current lane", None, 100 * MS)
    assert pc.inputs.frame_ready() and not pc.inputs.frame_ready()
