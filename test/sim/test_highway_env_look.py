"""The `highway_env` camera look on real episodes: highway-env's viewer graphics, heading-up."""

import numpy as np
import pytest
from highway_env.road.graphics import WorldSurface
from highway_env.vehicle.graphics import VehicleGraphics

from vla_driving.sim import SimConfig, make_sim
from vla_driving.sim.highway_render import HighwayEnvRenderer

HW = SimConfig(look="highway_env")
WHITE = WorldSurface.WHITE


def lane_marking_angle(img: np.ndarray, colours) -> float:
    """Direction of the marking pixels, radians from image-up, positive when they lean right
    at the top: the angle whose normal projection piles the pixels into the sharpest lines."""
    mask = np.zeros(img.shape[:2], dtype=bool)
    for c in colours:
        mask |= np.all(img == c, axis=-1)
    rows, cols = np.nonzero(mask)
    angles = np.linspace(-0.8, 0.8, 641)
    sharpness = [np.sum(np.bincount(np.round(cols * np.cos(a) + rows * np.sin(a) + 200)
                                    .astype(int)) ** 2) for a in angles]
    return float(angles[int(np.argmax(sharpness))])


def test_renders_every_camera_at_the_configured_size_with_highway_env_renderers():
    cfg = SimConfig(look="highway_env", image_size=96, cameras=["a", "b"],
                    camera_spans_m=[40.0, 100.0])
    sim = make_sim("intersection", seed=2, cfg=cfg)
    assert all(isinstance(r, HighwayEnvRenderer) for r in sim.renderers.values())
    views = sim.render_cameras()
    assert list(views) == ["a", "b"]
    for img in views.values():
        assert img.shape == (96, 96, 3) and img.dtype == np.uint8
    assert not np.array_equal(views["a"], views["b"])      # each camera has its own span


def test_same_state_same_images():
    a, b = (make_sim("merge", seed=11, cfg=HW) for _ in range(2))
    for sim in (a, b):
        for _ in range(5):
            sim.step(sim.expert_action("keep_lane"))
    va, vb = a.render_cameras(), b.render_cameras()
    assert all(np.array_equal(va[k], vb[k]) for k in va)
    assert all(np.array_equal(v, a.render_cameras()[k]) for k, v in va.items())


def test_differs_from_the_bev_look_and_uses_highway_env_colours():
    hw = make_sim("highway", seed=3, cfg=HW).render_cameras()["bev_near"]
    bev = make_sim("highway", seed=3, cfg=SimConfig()).render_cameras()["bev_near"]
    assert not np.array_equal(hw, bev)
    colours, counts = np.unique(hw.reshape(-1, 3), axis=0, return_counts=True)
    assert tuple(colours[counts.argmax()]) == WorldSurface.GREY     # its background
    assert np.any(np.all(hw == WHITE, axis=-1))                     # its lane lines


@pytest.mark.parametrize("yaw", [0.0, 0.35, -0.35])
def test_heading_up_lane_markings_turn_with_the_ego_as_in_the_bev_look(yaw):
    """A car pointing `yaw` (ROS, left positive) across a straight highway sees its lanes lean
    right by that angle, in both looks; straight along the road they run vertically."""
    angles = {}
    for look, marks in (("highway_env", [WHITE]), ("bev", [(235, 235, 235), (190, 190, 190)])):
        sim = make_sim("highway", seed=1, cfg=SimConfig(look=look))
        sim.ego.heading = -yaw        # highway-env's heading is clockwise (y down)
        angles[look] = lane_marking_angle(sim.render_cameras()["bev_near"], marks)
    assert angles["highway_env"] == pytest.approx(yaw, abs=0.03)
    assert angles["highway_env"] == pytest.approx(angles["bev"], abs=0.03)


def test_ego_is_green_heading_up_at_the_configured_row_and_red_once_crashed():
    cfg = SimConfig(look="highway_env", cameras=["v"], camera_spans_m=[40.0])
    sim = make_sim("racetrack", seed=1, cfg=cfg)   # curved track: world and ego frames differ
    for _ in range(20):
        sim.step(sim.expert_action("keep_lane"))
    assert abs(np.sin(2 * sim.ego.heading)) > 0.2     # not along an image axis
    img = sim.render_cameras()["v"]
    rows, cols = np.nonzero(np.all(img == VehicleGraphics.EGO_COLOR, axis=-1))
    assert abs(rows.mean() - 0.7 * 128) < 2 and abs(cols.mean() - 64) < 2
    assert np.ptp(rows) > 2 * np.ptp(cols)          # the 5 m x 2 m box stands upright
    sim.ego.crashed = True
    img = sim.render_cameras()["v"]
    assert not np.any(np.all(img == VehicleGraphics.EGO_COLOR, axis=-1))
    rows, _ = np.nonzero(np.all(img == VehicleGraphics.RED, axis=-1))
    assert abs(rows.mean() - 0.7 * 128) < 2


def test_clone_keeps_working_without_cameras():
    sim = make_sim("highway", seed=4, cfg=HW)
    before = sim.render_cameras()
    twin = sim.clone()
    assert twin.renderers == {} and twin.render_cameras() == {}
    twin.step(twin.expert_action("keep_lane"))
    after = sim.render_cameras()
    assert all(np.array_equal(before[k], after[k]) for k in before)
