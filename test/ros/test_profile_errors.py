"""Broken profiles (issue 19, item 9): a misspelt key, malformed YAML, an empty file and a value
out of range are each one line naming file:line:column and the key; `vla-driving run` exits 1."""

import subprocess
import sys

import pytest
from stack_test_helpers import ROOT, SIM_YAML, ros_context  # noqa: F401

from vla_driving.configuration import ConfigError

pytestmark = pytest.mark.ros


def _profile(tmp_path, text):
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


CASES = [
    (lambda t: t.replace("    rate_hz: 10.0", "    ratehz: 10.0"),
     r"profile.yaml:\d+:5: vla_planner.ratehz: unknown key for PlannerConfig"),
    (lambda t: t.replace("step_hz: 20.0", "step_hz: -1"),
     r"profile.yaml:\d+:7: sim_bridge.sim.step_hz=-1.0: out of range"),
    (lambda t: t + "\nvla_planner: [unclosed\n", r"profile.yaml:\d+:\d+: invalid YAML"),
    (lambda t: "", r"profile.yaml: empty profile"),
    (lambda t: t.replace("vla_bringup:", "vla_brinup:"), r"profile.yaml:\d+:1: vla_brinup: unknown section"),
    # issue 16: a view the planner reads that the bridge does not render, a CameraInfo it
    # never publishes (bird's-eye views have none)
    (lambda t: t.replace("      cameras: [bev_near, bev_far]\n      camera_topic",
                         "      cameras: [bev_near, front]\n      camera_topic"),
     r"profile.yaml: vla_planner: camera 'front': the planner reads it, the bridge's "
     r"sim.cameras \['bev_near', 'bev_far'\] lacks it"),
    (lambda t: t.replace("      cameras: [bev_near, bev_far]\n      camera_topic",
                         "      cameras: [bev_near, bev_far]\n      camera_info_cameras: "
                         "[bev_far]\n      camera_topic"),
     r"vla_planner: camera 'bev_far': the planner needs its CameraInfo, the bridge publishes "
     r"CameraInfo only for its perspective cameras \[\]"),
]


@pytest.mark.parametrize("edit, message", CASES)
def test_check_profile_names_file_line_column_and_key(tmp_path, edit, message):
    from vla_driving.ros.stack import check_profile
    with pytest.raises(ConfigError, match=message) as err:
        check_profile(_profile(tmp_path, edit(SIM_YAML.read_text())))
    assert "\n" not in str(err.value)


def test_the_shipped_profiles_pass():
    from vla_driving.ros.stack import check_profile
    for path in sorted((ROOT / "config").glob("*.yaml")):
        if "vla_bringup" in path.read_text():
            check_profile(path)


def test_run_exits_1_with_one_line(tmp_path):
    path = _profile(tmp_path, SIM_YAML.read_text().replace("step_hz: 20.0", "step_hz: -1"))
    proc = subprocess.run([sys.executable, "-m", "vla_driving.apps.cli", "run", "--config",
                           str(path), "--duration", "1"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if "step_hz" in line or "Traceback" in line]
    assert len(lines) == 1 and "profile.yaml:" in lines[0] and "Traceback" not in proc.stderr


def test_a_misspelt_ros_parameter_is_refused_by_the_node(ros_context):
    from rclpy.parameter import Parameter

    from vla_driving.ros.controller_node import ControllerNode
    with pytest.raises(ConfigError, match="parameter ratehz: unknown key for ControllerConfig"):
        ControllerNode(context=ros_context, parameter_overrides=[Parameter("ratehz", value=5.0)])
