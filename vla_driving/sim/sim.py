"""`make_sim(scenario, seed, cfg)`: one highway-env episode behind a small, ROS-free API.

Used by the data generator (training) and by the simulator bridge node (runtime). Everything it
returns is in the ROS frame (x forward / y left, yaw counter-clockwise, steering positive left).
"""

from __future__ import annotations

import copy
import gc
import logging
import os
import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from highway_env.vehicle.behavior import IDMVehicle

from vla_driving.constants import NS_PER_S
from vla_driving.types import EgoState
from vla_driving.sim.config import HIGHWAY_ENV_LOOK, SimConfig
from vla_driving.sim.ego import BoundedEgo, install_ego
from vla_driving.sim.expert import ShadowExpert
from vla_driving.sim.frames import steering_to_hw, steering_to_ros, xy_to_ros, yaw_to_ros
from vla_driving.sim.ground_truth import GroundTruth, agent_of, lane_geometry, road_context
from vla_driving.sim.highway_render import HighwayEnvRenderer
from vla_driving.sim.render import CRASHED, EGO, OBSTACLE, OTHER, TRUCK, BevRenderer
from vla_driving.sim.scenarios import Scenario, get_scenario

log = logging.getLogger(__name__)
TRUCK_LENGTH = (9.0, 12.0)
TRUCK_WIDTH = 2.5
SEED_MODULUS = 2**31 - 1
# highway-env's intersection env tunes its traffic by setting these IDMVehicle class attributes,
# which then held for every later episode of the process (a sweep's worker, a test session):
# each episode applies its own values before it moves, so no episode depends on the one before.
IDM_CLASS_PARAMS = ("DISTANCE_WANTED", "COMFORT_ACC_MAX", "COMFORT_ACC_MIN")
IDM_DEFAULTS = {name: getattr(IDMVehicle, name) for name in IDM_CLASS_PARAMS}


def _set_idm_params(params: dict) -> None:
    for name, value in params.items():
        setattr(IDMVehicle, name, value)


@dataclass(frozen=True)
class Control:
    """What the ego executes: longitudinal acceleration (m/s^2), front-wheel angle (rad, +left)."""

    acceleration: float
    steering_angle: float


@dataclass(frozen=True)
class StepStatus:
    time_s: float
    done: bool
    collision: bool
    off_road: bool
    timeout: bool


class Sim:
    """One episode of a scenario; call `reset()` before the first `step()`."""

    def __init__(self, scenario: Scenario, seed: int, cfg: SimConfig):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        self.scenario, self.seed, self.cfg = scenario, int(seed), cfg
        self.env = None
        self.ego: BoundedEgo | None = None
        self.expert: ShadowExpert | None = None
        renderer = HighwayEnvRenderer if cfg.look == HIGHWAY_ENV_LOOK else BevRenderer
        self.renderers = {name: renderer(cfg.image_size, span, cfg.ego_row_fraction)
                          for name, span in cfg.bev_spans().items()}
        self._road_key = object()       # the perspective renderer rebuilds the road on a new one
        self._cameras_on = True         # False on a clone
        self._ids: dict[int, int] = {}
        self.steps = 0

    # ---- lifecycle -----------------------------------------------------------------------
    def reset(self) -> None:
        import gymnasium as gym
        import highway_env  # noqa: F401  (registers the envs)

        rng = np.random.default_rng(self.seed)
        env_cfg = self.scenario.randomise(rng, self.cfg.density_scale)
        env_cfg.update({"simulation_frequency": int(round(self.cfg.step_hz * self.cfg.substeps)),
                        "policy_frequency": int(round(self.cfg.step_hz)),
                        "duration": self.cfg.max_duration_s, "offscreen_rendering": True})
        self.close()                        # the previous episode, if any
        _set_idm_params(IDM_DEFAULTS)
        with warnings.catch_warnings():     # older env versions are the ones with these maps
            warnings.simplefilter("ignore", DeprecationWarning)
            self.env = gym.make(self.scenario.env_id, config=env_cfg).unwrapped
        self.env.reset(seed=self.seed % SEED_MODULUS)
        self._idm_params = {name: getattr(IDMVehicle, name) for name in IDM_CLASS_PARAMS}
        self.ego = install_ego(self.env, self.cfg)
        self._make_trucks(rng)
        cruise = float(rng.uniform(*self.scenario.cruise_speed))
        if self.cfg.start_at_cruise:
            self.ego.speed = cruise
        self.expert = ShadowExpert(self.ego, cruise, self.cfg.wheelbase_m)
        self.lanes = lane_geometry(self.env.road, self.ego.position)
        self._render_lanes = [SimpleNamespace(
            center_np=np.array(g.centerline), bounds_np=[np.array(b) for b in g.boundaries],
            line_types=g.line_types, width=g.width) for g in self.lanes]
        self._road_key = object()
        self._ids.clear()
        self.steps = 0

    def clone(self) -> "Sim":
        """An independent copy of the whole episode state (traffic, ego, expert intent, random
        generators), without cameras: stepping it never touches this one. DAgger rolls the
        shadow expert forward on clones to label the states a policy drove into."""
        self._require_reset()
        renderers, self.renderers = self.renderers, {}
        self._cameras_on = False
        try:
            return copy.deepcopy(self)
        finally:
            self.renderers, self._cameras_on = renderers, True

    def expert_future(self, command: str, horizon_s: float) -> dict:
        """Where the shadow expert would drive from this state under `command` over
        `horizon_s` (on a clone): {t_ns, x, y, yaw, speed} lists in the ROS frame, starting with
        the current state; shorter only when the map ends. A collision does not end it: the
        states just before one need a label most (highway-env stops a crashed car, so the
        label brakes)."""
        twin = self.clone()
        states = [twin.ego_state()]
        for _ in range(int(np.ceil(horizon_s * self.cfg.step_hz))):
            twin.step(twin.expert_action(command))
            states.append(twin.ego_state())
            if twin._route_ended():
                break
        twin.close(collect=False)
        return {"t_ns": [s.stamp_ns for s in states], "x": [s.x for s in states],
                "y": [s.y for s in states], "yaw": [s.yaw for s in states],
                "speed": [s.speed for s in states]}

    def close(self, collect: bool = True) -> None:
        """End the episode. highway-env's road and vehicles refer to each other, so an episode
        is freed only by the cyclic collector, which runs rarely: RSS climbed by 50 MiB over the
        first minutes of chained routes (bench soak). `collect` frees it now (a clone, closed
        after every DAgger label, skips it: the episode's own close collects)."""
        if self.env is not None:
            self.env.close()
            self.env, self.ego, self.expert = None, None, None   # each holds the road
            if collect:
                gc.collect()

    def _make_trucks(self, rng: np.random.Generator) -> None:
        for v in self.env.road.vehicles:
            if v is not self.ego and rng.random() < self.cfg.truck_fraction:
                v.LENGTH = float(rng.uniform(*TRUCK_LENGTH))
                v.WIDTH = TRUCK_WIDTH
                v.diagonal = float(np.hypot(v.LENGTH, v.WIDTH))

    # ---- stepping ------------------------------------------------------------------------
    @property
    def time_s(self) -> float:
        return self.steps / self.cfg.step_hz

    @property
    def stamp_ns(self) -> int:
        return int(round(self.steps * NS_PER_S / self.cfg.step_hz))

    def step(self, control: Control | tuple[float, float]) -> StepStatus:
        """Hold `control` for 1/step_hz seconds of simulation."""
        self._require_reset()
        accel, steer = (control.acceleration, control.steering_angle) \
            if isinstance(control, Control) else (float(control[0]), float(control[1]))
        self.ego.command(accel, steering_to_hw(steer))
        _set_idm_params(self._idm_params)
        dt = 1.0 / (self.cfg.step_hz * self.cfg.substeps)
        for _ in range(self.cfg.substeps):
            self.env.road.act()
            self.env.road.step(dt)
        if hasattr(self.env, "_clear_vehicles"):          # intersection: traffic keeps coming
            self.env._clear_vehicles()
            self.env._spawn_vehicle(spawn_probability=self.env.config["spawn_probability"])
        self.steps += 1
        return self.status()

    def status(self) -> StepStatus:
        crashed, off_road = bool(self.ego.crashed), self.off_road()
        timeout = self.time_s >= self.cfg.max_duration_s
        end = self._route_ended()
        return StepStatus(self.time_s, crashed or off_road or timeout or end, crashed, off_road,
                          timeout)

    def off_road(self) -> bool:
        """On no lane at all: highway-env judges only the closest lane, which at a fork
        (a roundabout exit) can be the neighbour the ego is not on."""
        if self.ego.on_road:
            return False
        pos = self.ego.position
        return not any(lane.on_lane(pos) for lane in self.env.road.network.lanes_list())

    def _route_ended(self) -> bool:
        """The ego ran past the last lane of the map (merge and intersection exits end)."""
        net = self.env.road.network
        lane = net.get_lane(self.ego.lane_index)
        s = lane.local_coordinates(self.ego.position)[0]
        return s > lane.length and not net.graph.get(self.ego.lane_index[1])

    # ---- observations --------------------------------------------------------------------
    def ego_state(self) -> EgoState:
        self._require_reset()
        x, y = xy_to_ros(self.ego.position)
        return EgoState(self.stamp_ns, float(x), float(y), yaw_to_ros(self.ego.heading),
                        float(self.ego.speed), -float(self.ego.yaw_rate), float(self.ego.accel))

    @property
    def steering_angle(self) -> float:
        return steering_to_ros(self.ego.steering)

    def render_cameras(self) -> dict[str, np.ndarray]:
        """One image per camera (H x W x 3 uint8) in `cfg.cameras` order: bird's-eye views in
        the configured look, perspective cameras from the process's panda3d renderer."""
        self._require_reset()
        if not self._cameras_on:
            return {}
        images = self._render_bev()
        if self.cfg.perspective_cameras:
            images.update(self._render_perspective())
        return {name: images[name] for name in self.cfg.cameras}

    def _render_bev(self) -> dict[str, np.ndarray]:
        if not self.renderers:
            return {}
        if self.cfg.look == HIGHWAY_ENV_LOOK:
            return {name: r.render(self.env.road, self.ego) for name, r in self.renderers.items()}
        s = self.ego_state()
        boxes = [self._box(o) for o in self._objects() if o is not self.ego]
        boxes.append(self._box(self.ego))
        return {name: r.render((s.x, s.y, s.yaw), self._render_lanes, boxes)
                for name, r in self.renderers.items()}

    def _render_perspective(self) -> dict[str, np.ndarray]:
        from vla_driving.sim.perspective import shared_renderer

        s = self.ego_state()
        boxes = [self._box3d(o) for o in self._objects() if o is not self.ego]
        return shared_renderer().render(self.cfg.perspective, self.cfg.perspective_cameras,
                                        (s.x, s.y, s.yaw), self._render_lanes, self._road_key,
                                        boxes)

    def ground_truth(self) -> GroundTruth:
        self._require_reset()
        agents = [agent_of(o, self._agent_id(o)) for o in self._objects() if o is not self.ego]
        return GroundTruth(self.stamp_ns, road_context(self.scenario, self.ego), agents,
                           collision=bool(self.ego.crashed), off_road=self.off_road())

    # ---- expert --------------------------------------------------------------------------
    def feasible(self, command: str) -> bool:
        self._require_reset()
        return self.expert.feasible(command)

    def expert_action(self, command: str) -> Control:
        self._require_reset()
        _set_idm_params(self._idm_params)       # the expert's IDM reads them too
        return Control(*self.expert.action(command, self.time_s))

    def instruction_completed(self, command: str) -> bool:
        self._require_reset()
        return self.expert.completed(command, self.time_s)

    # ---- helpers -------------------------------------------------------------------------
    def _require_reset(self) -> None:
        if self.env is None or self.ego is None:
            raise RuntimeError("call Sim.reset() first")

    def _objects(self):
        return list(self.env.road.vehicles) + list(self.env.road.objects)

    def _agent_id(self, obj) -> int:
        return self._ids.setdefault(id(obj), len(self._ids) + 1)

    def _box3d(self, obj):
        """(x, y, yaw, length, width, height, rgb): a colour of its own per agent."""
        from vla_driving.sim.perspective import OBSTACLE_COLOUR, PALETTE, box_height

        x, y = xy_to_ros(obj.position)
        vehicle = hasattr(obj, "target_speed")
        rgb = PALETTE[self._agent_id(obj) % len(PALETTE)] if vehicle else OBSTACLE_COLOUR
        return float(x), float(y), yaw_to_ros(obj.heading), float(obj.LENGTH), float(obj.WIDTH), \
            box_height(float(obj.LENGTH), vehicle), rgb

    def _box(self, obj):
        x, y = xy_to_ros(obj.position)
        colour = EGO if obj is self.ego else OBSTACLE if not hasattr(obj, "target_speed") \
            else TRUCK if obj.LENGTH > TRUCK_LENGTH[0] - 1 else OTHER
        if getattr(obj, "crashed", False):
            colour = CRASHED
        return float(x), float(y), yaw_to_ros(obj.heading), float(obj.LENGTH), float(obj.WIDTH), \
            colour


def make_sim(scenario: str, seed: int, cfg: SimConfig | None = None) -> Sim:
    """A simulator for `scenario` (see `SCENARIOS`), reset and ready to step."""
    sim = Sim(get_scenario(scenario), seed, cfg or SimConfig())
    sim.reset()
    return sim
