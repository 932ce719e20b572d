"""A profile's nodes in one process (`Stack`), and what the launch files start (`launch_plan`).

The profile is the same ROS 2 parameter file the launch files pass to `ros2 launch`; its
`vla_bringup` section names the nodes to start and whether they run on /clock. Nodes share a
multi-threaded executor (planning has its own callback group); Ctrl-C shuts everything down
cleanly (executor first, then nodes, then the context).
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from rclpy.executors import MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.parameter import Parameter

from vla_driving.configuration import (Config, ConfigError, load_yaml, locate_error, param,
                                       yaml_position)

from vla_driving.ros.parameters import yaml_overrides
from vla_driving.ros.spin import multithreaded_executor, shutdown_lifecycle

log = logging.getLogger(__name__)
BRINGUP_SECTION = "vla_bringup"
# node name -> (module, class); imported only when a profile starts that node
NODE_CLASSES = {
    "sim_bridge": ("vla_driving.ros.sim_bridge_node", "SimBridgeNode"),
    "camera_ingest": ("vla_driving.ros.ingest_node", "IngestNode"),
    "vla_planner": ("vla_driving.ros.planner_node", "PlannerNode"),
    "trajectory_controller": ("vla_driving.ros.controller_node", "ControllerNode"),
}
CLOCK_SOURCES = ("sim_bridge",)   # nodes that publish /clock run on wall time themselves


@dataclass
class BringupConfig(Config):
    """The `vla_bringup` section of a profile (read by this module and by launch/)."""

    nodes: list[str] = param(["vla_planner", "trajectory_controller"], "nodes to start",
                             choices=tuple(NODE_CLASSES), min_len=1)
    use_sim_time: bool = param(False, "nodes follow /clock (simulator, bag replay)")
    num_threads: int = param(4, "executor threads", low=1, high=64)


def launch_plan(config_path: str | Path) -> list[dict]:
    """What the launch files start for a profile: one process per node, same parameter file."""
    path = Path(config_path)
    cfg = check_profile(path)
    return [{"package": "vla_driving", "executable": name, "name": name,
             "parameters": [str(path), {"use_sim_time": cfg.use_sim_time and name not in CLOCK_SOURCES}]}
            for name in cfg.nodes]


# node name -> (module, config class) of its one config: a profile is checked against these
# before any node starts (an unknown key, a value out of range: one line with file:line:col)
NODE_CONFIGS = {
    "sim_bridge": ("vla_driving.sim.bridge", "SimBridgeConfig"),
    "camera_ingest": ("vla_driving.sensors.config", "IngestConfig"),
    "vla_planner": ("vla_driving.policy.planner_config", "PlannerConfig"),
    "trajectory_controller": ("vla_driving.control.config", "ControllerConfig"),
}


def check_profile(path: str | Path) -> BringupConfig:
    """The bringup section of a profile whose every node section validates; else one
    `ConfigError` naming file, line, column and key (an empty file or one without
    `vla_bringup` is refused rather than run on defaults)."""
    path = Path(path)
    doc = load_yaml(path)
    if not doc:
        raise ConfigError(f"{path}: empty profile (expected a '{BRINGUP_SECTION}' section and "
                          f"one section per node)")
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping of node sections")
    unknown = sorted(set(doc) - set(NODE_CONFIGS) - {BRINGUP_SECTION}, key=str)
    if unknown:
        pos = yaml_position(path, [unknown[0]])
        where = f"{path}:{pos[0]}:{pos[1]}" if pos else str(path)
        raise ConfigError(f"{where}: {unknown[0]}: unknown section (known: "
                          f"{', '.join([BRINGUP_SECTION, *NODE_CONFIGS])})")
    if BRINGUP_SECTION not in doc:
        raise ConfigError(f"{path}: no '{BRINGUP_SECTION}' section (it names the nodes to start)")
    configs: dict = {}
    for name, cls in [(BRINGUP_SECTION, BringupConfig)] + [
            (n, getattr(importlib.import_module(m), c)) for n, (m, c) in NODE_CONFIGS.items()
            if n in doc]:
        try:
            cfg = cls.from_yaml(path, name)
        except ConfigError as exc:
            raise locate_error(exc, path, name) from None
        configs[name] = cfg
    _check_cameras(path, configs)
    return configs[BRINGUP_SECTION]


def _check_cameras(path: Path, configs: dict) -> None:
    """A simulator profile's planner and ingest read only views the bridge renders."""
    from vla_driving.sim.bridge import camera_mismatch

    bridge = configs.get("sim_bridge")
    for name in ("vla_planner", "camera_ingest"):
        cfg = configs.get(name)
        ingest = getattr(cfg, "ingest", cfg)
        why = camera_mismatch(bridge, ingest.cameras, ingest.camera_info_cameras) \
            if bridge is not None and ingest is not None else ""
        if why:
            raise ConfigError(f"{path}: {name}: {why}")


class Stack:
    """The nodes of one profile on one executor; `start()` spins it in a background thread."""

    def __init__(self, config_path: str | Path, context=None, node_kwargs: dict | None = None,
                 extra_overrides: dict | None = None, nodes: list[str] | None = None) -> None:
        self.path = Path(config_path)
        self.cfg = check_profile(self.path)
        if nodes is not None:  # a subset, e.g. when the simulator runs in another process
            self.cfg = BringupConfig(nodes=nodes, use_sim_time=self.cfg.use_sim_time,
                                     num_threads=self.cfg.num_threads)
        self.context = context
        self.node_kwargs = node_kwargs or {}
        self.extra = extra_overrides or {}
        self.nodes: dict = {}
        self.executor: MultiThreadedExecutor | None = None
        self._thread: threading.Thread | None = None

    def build(self) -> "Stack":
        for name in self.cfg.nodes:
            module, cls = NODE_CLASSES[name]
            node_cls = getattr(importlib.import_module(module), cls)
            overrides = yaml_overrides(self.path, name)
            overrides += [Parameter(k, value=v) for k, v in self.extra.get(name, {}).items()]
            if self.cfg.use_sim_time and name not in CLOCK_SOURCES:
                overrides.append(Parameter("use_sim_time", value=True))
            self.nodes[name] = node_cls(context=self.context, parameter_overrides=overrides,
                                        **self.node_kwargs.get(name, {}))
        self._activate_lifecycle_nodes()
        self.executor = multithreaded_executor(num_threads=self.cfg.num_threads, context=self.context)
        for node in self.nodes.values():
            self.executor.add_node(node)
        return self

    def _activate_lifecycle_nodes(self) -> None:
        for name, node in self.nodes.items():
            if not isinstance(node, LifecycleNode):
                continue
            if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                reason = getattr(node, "configure_error", None) or "configure failed"
                self.destroy()
                raise ConfigError(f"{name}: {reason}")
            node.trigger_activate()

    def start(self) -> "Stack":
        if self.executor is None:
            self.build()
        self._thread = threading.Thread(target=self.executor.spin, name="stack-executor",
                                        daemon=True)
        self._thread.start()
        return self

    def destroy(self) -> None:
        """Executor down and joined before nodes are destroyed (else rclpy can abort)."""
        if self.executor is not None:
            self.executor.request_stop()          # the spinning thread returns ...
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self.executor is not None:
            self.executor.shutdown(timeout_sec=30.0)   # ... then callbacks in flight finish
        for node in self.nodes.values():
            if self.executor is not None:
                self.executor.remove_node(node)
            shutdown_lifecycle(node)
            node.destroy_node()
        self.nodes, self.executor, self._thread = {}, None, None

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.destroy()
