"""The runtime's ROS-free modules import and work with rclpy (and every *_msgs) unavailable."""

import subprocess
import sys
import textwrap

# Run in a fresh interpreter where importing rclpy or any message package fails, as on a
# machine without ROS; the parent test process may already have rclpy imported.
BLOCKER = textwrap.dedent("""
    import importlib.abc, importlib.util, pkgutil, sys

    BLOCKED = ("rclpy", "rcl_interfaces", "builtin_interfaces", "launch", "launch_ros")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.split(".")[0]
            if top in BLOCKED or top.endswith("_msgs"):
                raise ImportError(f"{name} blocked: ROS unavailable in this test")
            return None

    sys.meta_path.insert(0, Block())
    import vla_driving
    skipped = []
    # the apps that drive nodes (the ROS floor below them) need rclpy by design
    ROS_APPS = {"bag_player", "bench_ingest",
                "closed_loop_runner", "run"}
    for info in pkgutil.walk_packages(vla_driving.__path__, "vla_driving."):
        if info.name.startswith("vla_driving.ros.") or \
                info.name.removeprefix("vla_driving.apps.") in ROS_APPS:
            continue
        try:
            importlib.import_module(info.name)
        except ImportError as exc:
            if "blocked" in str(exc):
                raise SystemExit(f"{info.name} needs ROS: {exc}")
            skipped.append(f"{info.name}: {exc}")
    import numpy as np
    from vla_driving.sensors import Ingest, IngestConfig, RawImage
    ingest = Ingest(IngestConfig(cameras=["a"]))
    image = RawImage(2, 2, "rgb8", 6, bytes(12))
    assert ingest.on_image("a", image, 1, 1) is None and ingest.stats()["sets"] == 1
    import vla_driving.ros  # the package itself must not need rclpy
    assert "rclpy" not in sys.modules
    print("\\n".join(skipped))
""")


def test_runtime_imports_without_rclpy():
    result = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
