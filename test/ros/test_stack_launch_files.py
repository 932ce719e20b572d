"""Launch files cannot run here (`launch` is not on PyPI): check that they compile, name a profile
that exists, and start executables that setup.py installs, with the profile's parameters."""

import ast
import py_compile
import re

import pytest
import yaml
from stack_test_helpers import ROOT

pytestmark = pytest.mark.ros
LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.py"))


def test_the_three_stack_launch_files_exist():
    names = {p.name for p in LAUNCH_FILES}
    assert {"vla_driving.launch.py", "carla.launch.py", "sim.launch.py"} <= names


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_compiles_and_its_profile_starts_installed_nodes(path, tmp_path):
    from vla_driving.ros.stack import launch_plan
    py_compile.compile(str(path), cfile=str(tmp_path / "launch.pyc"), doraise=True)
    tree = ast.parse(path.read_text())
    profiles = [n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                and any(getattr(t, "id", "") == "PROFILE" for t in n.targets)]
    if not profiles:
        pytest.skip(f"{path.name} does not use a stack profile")
    profile = ROOT / "config" / profiles[0]
    assert profile.is_file()
    scripts = set(re.findall(r'"(\w+) = vla_driving\.ros\.\w+:main"', (ROOT / "setup.py").read_text()))
    plan = launch_plan(profile)
    assert plan and {e["executable"] for e in plan} <= scripts
    sim_time = yaml.safe_load(profile.read_text())["vla_bringup"]["ros__parameters"]["use_sim_time"]
    for entry in plan:
        assert entry["parameters"][0] == str(profile)
        assert entry["parameters"][1]["use_sim_time"] is (sim_time and entry["name"] != "sim_bridge")
