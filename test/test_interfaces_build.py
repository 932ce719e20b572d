"""interfaces/build.py without building: the include-path fix, the skip rules, the recipes."""

import importlib.util
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("interfaces_build", ROOT / "interfaces" / "build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


def test_the_wheels_include_paths_are_rewritten_to_this_interpreter(tmp_path):
    cmake = tmp_path / "share" / "std_msgs" / "cmake" / "export_std_msgs__rosidl_generator_pyExport.cmake"
    cmake.parent.mkdir(parents=True)
    cmake.write_text('INTERFACE_INCLUDE_DIRECTORIES "/opt/python/cp311-cp311/include/python3.11;'
                     '/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include"\n')
    assert build.fix_exported_include_dirs(tmp_path) == 1
    text = cmake.read_text()
    assert "/opt/python" not in text
    assert sysconfig.get_paths()["include"] in text and np.get_include() in text
    assert build.fix_exported_include_dirs(tmp_path) == 0      # idempotent


def test_a_package_of_another_prefix_is_not_built_again(tmp_path, monkeypatch):
    other = tmp_path / "opt" / "ros"
    (other / "share" / "carla_msgs").mkdir(parents=True)
    (other / "share" / "carla_msgs" / "package.xml").write_text("<package/>")
    monkeypatch.setenv("AMENT_PREFIX_PATH", f"{Path(sys.prefix)}:{other}")
    assert build.provided_elsewhere("carla_msgs", Path(sys.prefix).resolve()) == other.resolve()
    assert build.provided_elsewhere("ackermann_msgs", Path(sys.prefix).resolve()) is None


def test_every_package_declares_its_messages_and_dependencies():
    for name in build.PACKAGES:
        pkg = ROOT / "interfaces" / name
        xml = ET.parse(pkg / "package.xml").getroot()
        assert xml.findtext("name") == name
        assert "rosidl_interface_packages" in [g.text for g in xml.findall("member_of_group")]
        cmake = (pkg / "CMakeLists.txt").read_text()
        msgs = sorted(p.name for p in (pkg / "msg").glob("*.msg"))
        assert msgs and all(f'"msg/{m}"' in cmake for m in msgs)
        for dep in (d.text for d in xml.findall("depend")):
            assert f"find_package({dep} REQUIRED)" in cmake and dep in cmake.split("DEPENDENCIES")[1]
    assert build.source_hash(ROOT / "interfaces" / "carla_msgs") != build.source_hash(
        ROOT / "interfaces" / "ackermann_msgs")
