"""One simulator episode, driven by the shadow expert under a command schedule, into a rosbag2.

Topics and types are what a vehicle records (carla-ros-bridge layout, a CameraInfo beside each
perspective camera's images) plus the simulator's ground truth on `/sim/...` topics and, added
once the episode is closed, the reference texts of its labelled frames
(`references.add_reference_texts`); see docs/data.md. Every stamp derives from the step count,
so the same seed and config give byte-identical message data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer

from vla_driving.constants import NS_PER_S
from vla_driving.data import topics as TP
from vla_driving.data.images import encode_jpeg
from vla_driving.sim import command_text, make_sim

from . import messages as M
from .gen_config import GenerateConfig
from .references import add_reference_texts
from .schedule import CommandSchedule

BAG_VERSION = M.BAG_VERSION
PLUGINS = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}


@dataclass(frozen=True)
class EpisodeSpec:
    scenario: str
    index: int
    seed: int

    @property
    def name(self) -> str:
        return f"{self.scenario}_{self.index:04d}_s{self.seed}"


def episode_seed(base_seed: int, scenario: str, index: int) -> int:
    """A per-episode seed from the run seed, the scenario and the episode number."""
    key = [int(base_seed), index] + [ord(c) for c in scenario]
    return int(np.random.SeedSequence(key).generate_state(1)[0] % (2**31 - 1))


class BagOut:
    """Connections by topic; writes serialised messages at their stamps."""

    def __init__(self, writer: Writer, cameras: list[str], extra: tuple = (),
                 infos: dict | None = None):
        self.writer, self.conns = writer, {}
        self.infos = infos or {}        # camera -> CameraInfo fields, written with its images
        kinds = list(extra) + [(TP.camera_topic(c), M.COMPRESSED_IMAGE) for c in cameras] + [
            (TP.camera_info_topic(c), M.CAMERA_INFO) for c in self.infos] + [
            (f"{TP.CARLA_PREFIX}/odometry", M.ODOMETRY), (f"{TP.CARLA_PREFIX}/instruction", M.STRING),
            (TP.TOPIC_SIM_AGENTS, M.STRING), (TP.TOPIC_SIM_LANES, M.STRING),
            (TP.TOPIC_SIM_COLLISION, M.BOOL), (TP.TOPIC_SIM_COMPLETED, M.BOOL),
            (TP.TOPIC_SIM_EPISODE, M.STRING)]
        for topic, msgtype in kinds:
            self.conns[topic] = (writer.add_connection(topic, msgtype, typestore=M.STORE), msgtype)

    def put(self, topic: str, stamp_ns: int, msg) -> None:
        conn, msgtype = self.conns[topic]
        self.writer.write(conn, stamp_ns, M.serialize(msg, msgtype))


def camera_infos(sim_cfg) -> dict:
    """CameraInfo fields of the perspective cameras among `sim_cfg.cameras` (BEV views: none)."""
    return {c: sim_cfg.perspective.camera_info(c) for c in sim_cfg.perspective_cameras}


def run_episode(spec: EpisodeSpec, out_dir: Path, cfg: GenerateConfig) -> dict:
    """Write one episode bag to `out_dir/<name>`; returns a summary row."""
    path = Path(out_dir) / spec.name
    cfg = cfg.for_episode(spec.seed)     # the episode's camera look (GenerateConfig.looks)
    sim = make_sim(spec.scenario, spec.seed, cfg.sim)
    rng = np.random.default_rng(spec.seed)
    schedule = CommandSchedule(rng, cfg.scenario_commands(sim.scenario.commands),
                               cfg.command_hold_s, cfg.command_timeout_s, cfg.stop_hold_s)
    offset = cfg.stamp_offset_s * NS_PER_S
    frames, status = 0, None
    with Writer(path, version=BAG_VERSION, storage_plugin=PLUGINS[cfg.storage]) as writer:
        out = BagOut(writer, cfg.sim.cameras, infos=camera_infos(cfg.sim))
        content = {k: v for k, v in cfg.to_dict().items() if k != "storage"}  # same data either way
        info = {"scenario": spec.scenario, "seed": spec.seed, "index": spec.index,
                "config": content, "cruise_speed": sim.expert.cruise_speed,
                "look": cfg.sim.look}
        out.put(TP.TOPIC_SIM_EPISODE, offset, M.string(json.dumps(info, sort_keys=True)))
        out.put(TP.TOPIC_SIM_LANES, offset, M.string(json.dumps([asdict(g) for g in sim.lanes])))
        max_steps = int(round(cfg.episode_s * cfg.sim.step_hz))
        for _ in range(max_steps):
            command, done = schedule.update(sim, sim.time_s)
            write_frame(out, sim, offset + sim.stamp_ns, command, done, cfg)
            frames += 1
            status = sim.step(sim.expert_action(command))
            if status.done:
                break
    sim.close()
    add_reference_texts(path)   # the justification needs the future: after the bag is closed
    return {"episode": spec.name, "scenario": spec.scenario, "seed": spec.seed, "frames": frames,
            "collision": bool(status and status.collision), "path": str(path)}


def write_frame(out: BagOut, sim, stamp: int, command: str, done: bool,
                cfg: GenerateConfig, images: dict | None = None) -> None:
    """One recorded frame at `stamp`: the cameras (`images`, else rendered now), odometry,
    instruction and ground truth of the simulator's current state."""
    for name, img in (images if images is not None else sim.render_cameras()).items():
        if name in out.infos:
            out.put(TP.camera_info_topic(name), stamp, M.camera_info(stamp, name, out.infos[name]))
        out.put(TP.camera_topic(name), stamp, M.compressed_image(
            stamp, name, encode_jpeg(img, cfg.jpeg_quality)))
    s = sim.ego_state()
    out.put(f"{TP.CARLA_PREFIX}/odometry", stamp,
            M.odometry(stamp, s.x, s.y, s.yaw, s.speed, s.yaw_rate))
    out.put(f"{TP.CARLA_PREFIX}/instruction", stamp, M.string(command_text(command)))
    gt = sim.ground_truth()
    gt.stamp_ns = stamp
    out.put(TP.TOPIC_SIM_AGENTS, stamp, M.string(json.dumps(gt.to_dict(), sort_keys=True)))
    out.put(TP.TOPIC_SIM_COLLISION, stamp, M.boolean(gt.collision))
    out.put(TP.TOPIC_SIM_COMPLETED, stamp, M.boolean(done))
