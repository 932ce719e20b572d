"""Check a colcon install tree of vla_driving from outside the checkout (sourced workspace).

`launch` and `launch_ros` exist only in a system ROS 2, so the launch files run against a
stand-in that records what they ask for (`DeclareLaunchArgument`, `OpaqueFunction`, `Node`);
every node they start must name an executable, a parameter file and remappings that exist in the
install tree. Then the planner node starts from its installed executable.
"""

import os
import runpy
import signal
import subprocess
import sys
import types
from pathlib import Path

PREFIX = Path(sys.argv[1]).resolve()
LIB = PREFIX / "lib" / "vla_driving"
SHARE = PREFIX / "share" / "vla_driving"


def check_imports_from_the_install_tree() -> None:
    import vla_driving
    where = Path(vla_driving.__file__).resolve()
    assert PREFIX in where.parents, f"vla_driving imported from {where}, not the install tree"
    print(f"vla_driving from {where.parent}")


def check_executables() -> list[str]:
    names = sorted(p.name for p in LIB.iterdir() if p.is_file())
    for name in names:
        first = (LIB / name).read_text().splitlines()[0]
        assert first == "#!/usr/bin/env python3", f"{name}: shebang {first!r} is not portable"
    print(f"executables (portable shebang): {', '.join(names)}")
    return names


class Recorder:
    """Stand-in for the launch API: each class records its arguments."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class LaunchConfiguration(Recorder):
    def perform(self, context) -> str:
        return context.launch_configurations[self.args[0]]


def install_launch_stand_in() -> None:
    modules = {
        "launch": {"LaunchDescription": type("LaunchDescription", (Recorder,), {})},
        "launch.actions": {"DeclareLaunchArgument": type("DeclareLaunchArgument", (Recorder,), {}),
                           "OpaqueFunction": type("OpaqueFunction", (Recorder,), {})},
        "launch.substitutions": {"LaunchConfiguration": LaunchConfiguration},
        "launch_ros": {},
        "launch_ros.actions": {"Node": type("Node", (Recorder,), {})},
    }
    for name, attrs in modules.items():
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module


def launched_nodes(path: Path) -> list[dict]:
    description = runpy.run_path(str(path))["generate_launch_description"]()
    entities = description.args[0]
    defaults = {e.args[0]: e.kwargs["default_value"] for e in entities
                if type(e).__name__ == "DeclareLaunchArgument"}
    context = types.SimpleNamespace(launch_configurations=defaults)
    nodes = []
    for entity in entities:
        if type(entity).__name__ == "OpaqueFunction":
            nodes += [n.kwargs for n in entity.kwargs["function"](context)]
    return nodes


def check_launch_files(executables: list[str]) -> None:
    install_launch_stand_in()
    files = sorted((SHARE / "launch").glob("*.launch.py"))
    assert files, f"no launch files in {SHARE / 'launch'}"
    for path in files:
        nodes = launched_nodes(path)
        assert nodes, f"{path.name} starts no node"
        for node in nodes:
            assert node["package"] == "vla_driving", node
            assert node["executable"] in executables, f"{path.name}: {node['executable']} missing"
            params = [p for p in node.get("parameters", []) if isinstance(p, str)]
            for param_file in params:
                assert Path(param_file).is_file(), f"{path.name}: {param_file} missing"
                assert SHARE in Path(param_file).resolve().parents, param_file
            for remap in node.get("remappings", []):
                assert len(remap) == 2 and all(isinstance(s, str) and s for s in remap), remap
        print(f"{path.name}: {', '.join(n['executable'] for n in nodes)} with "
              f"{Path(params[0]).name if params else 'no parameter file'}")


def check_planner_starts() -> None:
    env = dict(os.environ)
    env.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(SHARE / "config" / "fastdds-local.xml"))
    proc = subprocess.Popen([str(LIB / "vla_planner")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if "configured with policy" in line or "configure failed" in line:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert any("configured with policy" in s for s in seen), "".join(seen)[-2000:]
    print("vla_planner from install/ configured with the installed default bundle")


check_imports_from_the_install_tree()
check_launch_files(check_executables())
check_planner_starts()
print("colcon install tree: OK")
