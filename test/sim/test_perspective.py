"""Perspective cameras (panda3d, offscreen EGL): pixels land where the pinhole model puts them."""

from types import SimpleNamespace

import numpy as np
import pytest

from vla_driving.configuration import ConfigError
from vla_driving.sim import SimConfig, make_sim
from vla_driving.sim.camera_config import Mount, PerspectiveConfig

pytest.importorskip("panda3d", reason="panda3d not installed (the `sim` extra)")
from vla_driving.sim.perspective import GROUND, ROAD, SKY, shared_renderer  # noqa: E402

RED = (0.9, 0.1, 0.1)
HALF_ROAD_M = 4.0
ONE_CAMERA = dict(names=["cam"], x_m=[0.0], y_m=[0.0], z_m=[1.5], yaw_deg=[0.0], pitch_deg=[0.0])


def straight_road(y0: float = 0.0, half: float = HALF_ROAD_M):
    """One wide lane along +x centred on y0, unmarked (only surface colour in the image)."""
    x = np.arange(-50.0, 600.0, 2.0)
    c = np.stack([x, np.full_like(x, y0)], 1)
    return [SimpleNamespace(bounds_np=[c + [0, half], c - [0, half]], line_types=["none", "none"])]


def render(cfg, boxes=(), lanes=None, pose=(0.0, 0.0, 0.0)):
    return shared_renderer().render(cfg, ["cam"], pose, lanes or straight_road(), object(),
                                    list(boxes))["cam"]


def mask(img, rgb, tol=10):
    return np.all(np.abs(img.astype(int) - np.array(rgb) * 255) <= tol, axis=-1)


def box_ahead(x, y=0.0, length=4.0, width=2.0, height=1.5):
    return (x, y, 0.0, length, width, height, RED)


def test_vehicle_ahead_is_centred_and_shrinks_as_the_pinhole_model_says():
    cfg = PerspectiveConfig(**ONE_CAMERA)
    k = cfg.pinhole()
    widths = []
    for dist in (15.0, 30.0, 60.0):
        img = render(cfg, [box_ahead(dist)])
        rows, cols = np.nonzero(mask(img, RED, tol=140) & ~mask(img, ROAD) & ~mask(img, SKY))
        assert abs((cols.min() + cols.max() + 1) / 2 - k.cx) <= 1.0
        near_face = dist - 2.0                    # the rear face of the box, 2 m before its centre
        expect = k.fx * 2.0 / near_face
        assert abs((cols.max() + 1 - cols.min()) - expect) <= 2.0
        # its roof edge (1.5 m, camera at 1.5 m) is on the horizon row, its bottom below it
        assert abs(rows.min() - k.cy) <= 1.5
        assert abs(rows.max() + 1 - (k.cy + k.fy * 1.5 / near_face)) <= 2.0
        widths.append(cols.max() - cols.min())
    assert widths[0] > widths[1] > widths[2]


def test_road_vanishing_point_and_horizon_follow_the_principal_point():
    for cx, cy in ((160.0, 90.0), (120.0, 70.0)):
        cfg = PerspectiveConfig(**ONE_CAMERA, cx=cx, cy=cy)
        img = render(cfg)
        road = mask(img, ROAD)
        rows = np.arange(int(cy) + 6, int(cy) + 40, 3)      # both road edges inside the image
        left = np.array([np.flatnonzero(road[r]).min() for r in rows])
        right = np.array([np.flatnonzero(road[r]).max() + 1 for r in rows])
        bl, al = np.polyfit(rows + 0.5, left, 1)
        br, ar = np.polyfit(rows + 0.5, right, 1)
        v = (ar - al) / (bl - br)                 # where the two road edges meet
        u = al + bl * v
        assert abs(u - cx) <= 1.5 and abs(v - cy) <= 1.5
        # the road edges are where the camera 1.5 m up sees y = +-4 m: u = cx -+ fx 4 / depth
        r = rows[0]
        depth = cfg.pinhole().fy * 1.5 / (r + 0.5 - cy)
        assert abs(left[0] - (cx - cfg.pinhole().fx * HALF_ROAD_M / depth)) <= 2.0
        sky_col = mask(img, SKY)[:, 2]
        assert abs(np.flatnonzero(~sky_col).min() - cy) <= 1.5       # the horizon row
        assert mask(img, GROUND)[int(cy) + 5, 0]                        # grass beside the road


def test_mount_yaw_and_ego_pose_turn_the_view():
    cfg = PerspectiveConfig(**{**ONE_CAMERA, "yaw_deg": [30.0]})
    a = np.radians(30.0)
    # a vehicle 30 degrees to the left of the ego's heading, seen by a camera yawed 30 degrees
    img = render(cfg, [(20 * np.cos(a), 20 * np.sin(a), a, 4.0, 2.0, 1.5, RED)])
    cols = np.nonzero(mask(img, RED, tol=140) & ~mask(img, SKY))[1]
    assert abs((cols.min() + cols.max() + 1) / 2 - cfg.pinhole().cx) <= 1.0
    # the same scene from an ego turned by 30 degrees and a forward camera
    img2 = render(PerspectiveConfig(**ONE_CAMERA), [(20 * np.cos(a), 20 * np.sin(a), a, 4.0, 2.0,
                                                     1.5, RED)], pose=(0.0, 0.0, a))
    assert np.array_equal(mask(img, RED, tol=140), mask(img2, RED, tol=140))


def test_pinhole_projection_of_a_mount_matches_config():
    m = Mount(1.0, 0.5, 1.6, np.radians(90.0), 0.0)
    cam = m.ego_to_camera(np.array([[1.0, 10.5, 1.6]]))  # 10 m straight along the camera axis
    assert np.allclose(cam, [[0.0, 0.0, 10.0]])
    k = PerspectiveConfig().pinhole()
    assert np.allclose(k.project(cam), [[k.cx, k.cy]])


def test_camera_info_matches_config():
    cfg = PerspectiveConfig(width=640, height=360, fov_deg=60.0, cy=170.0)
    info = cfg.camera_info("front")
    fx = 640 / (2 * np.tan(np.radians(30.0)))
    assert (info["width"], info["height"]) == (640, 360)
    assert np.allclose(info["k"], [fx, 0, 320.0, 0, fx, 170.0, 0, 0, 1])
    assert np.allclose(info["p"], [fx, 0, 320.0, 0, 0, fx, 170.0, 0, 0, 0, 1, 0])
    with pytest.raises(ValueError):
        cfg.camera_info("nope")


def test_bad_rig_config_names_the_key():
    with pytest.raises(ConfigError, match="perspective.yaw_deg has 1 value"):
        PerspectiveConfig(yaw_deg=[0.0])
    with pytest.raises(ConfigError, match="principal point is outside"):
        PerspectiveConfig(cx=400.0)
    with pytest.raises(ConfigError, match="camera_spans_m has 2 value"):
        SimConfig(cameras=["front", "bev_near"], camera_spans_m=[40.0, 100.0])


def test_sim_renders_bev_and_perspective_views_in_config_order():
    cfg = SimConfig(cameras=["front", "bev_near", "front_left"], camera_spans_m=[40.0],
                    image_size=64)
    sim = make_sim("highway", seed=3, cfg=cfg)
    sim.step(sim.expert_action("keep_lane"))
    views = sim.render_cameras()
    assert list(views) == ["front", "bev_near", "front_left"]
    assert views["bev_near"].shape == (64, 64, 3) and views["front"].shape == (180, 320, 3)
    front = views["front"]
    assert mask(front, SKY)[:80].mean() > 0.9 and mask(front, ROAD)[150:].mean() > 0.3
    assert not np.array_equal(front, views["front_left"])
    assert sim.clone().render_cameras() == {}
    sim.close()


def test_renderer_closes_reopens_and_renders_from_any_thread():
    """A ROS executor calls the bridge from any of its threads; a bridge closes the renderer
    and the next one in the process must render the same scene."""
    import threading

    from vla_driving.sim.perspective import close_shared_renderer

    cfg = PerspectiveConfig(**ONE_CAMERA)
    first = render(cfg, [box_ahead(20.0)])
    renderer = shared_renderer()
    close_shared_renderer()
    with pytest.raises(RuntimeError, match="closed"):
        renderer.render(cfg, ["cam"], (0.0, 0.0, 0.0), straight_road(), object(), [])
    again = []
    worker = threading.Thread(target=lambda: again.append(render(cfg, [box_ahead(20.0)])))
    worker.start()
    worker.join()
    assert shared_renderer() is not renderer
    assert np.array_equal(first, again[0])
