"""The `highway_env` camera look: highway-env's own viewer drawing, made ego-centred and heading-up.

An outside harness renders its cameras with highway-env's `EnvViewer` (its colours and shapes) and
turns them heading-up; this renderer draws the same views from our episode so a model can be
trained and tested on that look. `RoadGraphics`, `RoadObjectGraphics` and `VehicleGraphics` draw a
world-aligned `WorldSurface` around the view (offscreen, no display), in the order `EnvViewer.
display` uses; the surface is then rotated so the ego's heading points up and cropped with the ego
at `ego_row` of the height, like `BevRenderer`.
"""

from __future__ import annotations

import math

import numpy as np
import pygame
from highway_env.road.graphics import RoadGraphics, WorldSurface
from highway_env.vehicle.graphics import VehicleGraphics


class _Graphics(VehicleGraphics):
    """highway-env's vehicle colours, with our ego drawn as its viewer draws the controlled car.

    Our ego is an `IDMVehicle` subclass (which highway-env would paint blue like traffic); the
    viewer paints its controlled `MDPVehicle` with `EGO_COLOR` unless it has crashed (red) or
    carries its own `color`."""

    ego = None

    @classmethod
    def get_color(cls, vehicle, transparent: bool = False):
        if vehicle is cls.ego and not getattr(vehicle, "color", None) and not vehicle.crashed:
            return cls.EGO_COLOR
        return super().get_color(vehicle, transparent)


class HighwayEnvRenderer:
    """Draws one square view of `span_m` metres with highway-env's viewer graphics."""

    def __init__(self, size: int, span_m: float, ego_row: float):
        self.size, self.span_m, self.ego_row = size, span_m, ego_row
        self.side = math.ceil(size * math.sqrt(2)) + 2   # holds the view at any rotation
        self.graphics = type("ViewGraphics", (_Graphics,), {})   # per-renderer ego slot
        self._surface: WorldSurface | None = None

    def _world_surface(self) -> WorldSurface:
        if self._surface is None:
            dims = (self.side, self.side)
            self._surface = WorldSurface(dims, 0, pygame.Surface(dims))
            self._surface.scaling = self.size / self.span_m
            self._surface.centering_position = [0.5, 0.5]
        return self._surface

    def render(self, road, ego) -> np.ndarray:
        """road: the highway-env `Road`; ego: its vehicle the view follows (highway-env frame)."""
        surface = self._world_surface()
        heading = float(ego.heading)
        ahead = (self.ego_row - 0.5) * self.span_m       # view centre ahead of the ego (m)
        centre = np.asarray(ego.position, dtype=float) + ahead * np.array(
            [math.cos(heading), math.sin(heading)])
        surface.move_display_window_to(centre)
        self.graphics.ego = ego
        RoadGraphics.display(road, surface)
        RoadGraphics.display_road_objects(road, surface, offscreen=True)
        for vehicle in road.vehicles:         # RoadGraphics.display_traffic, with our colours
            self.graphics.display(vehicle, surface, offscreen=True)
        self.graphics.ego = None
        # y points down on screen, so the heading is clockwise: turning it up is a
        # counter-clockwise rotation by 90 degrees + heading
        rotated = pygame.transform.rotate(surface, 90.0 + math.degrees(heading))
        w, h = rotated.get_size()
        view = rotated.subsurface((w // 2 - self.size // 2, h // 2 - self.size // 2,
                                   self.size, self.size))
        data = pygame.image.tobytes(view, "RGB")
        return np.frombuffer(data, dtype=np.uint8).reshape(self.size, self.size, 3).copy()
