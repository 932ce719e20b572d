"""Build the message packages in this folder into a Python prefix (the venv running this script).

Run as `.venv/bin/python interfaces/build.py` (the Makefile's install does). Each package is a
plain ament_cmake + rosidl package: the generators come from PyPI (the `interfaces` extra), the
compiler and cmake from the system. Idempotent: a package whose sources are unchanged since its
last build here, or that another prefix on AMENT_PREFIX_PATH already provides (a ROS machine's
own packages), is skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Build order: none of these depends on another, all on packages the `ros` extra installs.
PACKAGES = ("ackermann_msgs", "carla_msgs", "autoware_control_msgs", "autoware_planning_msgs")
STAMP = "vla_interfaces.sha1"
# The PyPI wheels export CMake targets with the wheel builder's Python and NumPy include paths.
BUILDER_PYTHON_INCLUDE = re.compile(r"/opt/python/cp3\d+-cp3\d+/include/python3\.\d+")
BUILDER_NUMPY_INCLUDE = re.compile(r"/opt/python/cp3\d+-cp3\d+/lib/python3\.\d+/site-packages/numpy/_core/include")


def source_hash(pkg: Path) -> str:
    """sha1 over the package's files and this script (a recipe change rebuilds)."""
    digest = hashlib.sha1(Path(__file__).read_bytes())
    for path in sorted(p for p in pkg.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(pkg)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def provided_elsewhere(name: str, prefix: Path) -> Path | None:
    """Another prefix on AMENT_PREFIX_PATH that has the package (a sourced ROS installation)."""
    for entry in filter(None, os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)):
        other = Path(entry).resolve()
        if other != prefix and (other / "share" / name / "package.xml").is_file():
            return other
    return None


def fix_exported_include_dirs(prefix: Path) -> int:
    """Point the wheels' exported targets at this interpreter's Python and NumPy headers."""
    import numpy

    python_include = sysconfig.get_paths()["include"]
    numpy_include = numpy.get_include()
    changed = 0
    for path in (prefix / "share").glob("*/cmake/*.cmake"):
        text = path.read_text()
        new = BUILDER_PYTHON_INCLUDE.sub(python_include, BUILDER_NUMPY_INCLUDE.sub(numpy_include, text))
        if new != text:
            path.write_text(new)
            changed += 1
    return changed


def build_env(prefix: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("AMENT_PREFIX_PATH", "CMAKE_PREFIX_PATH"):
        env[var] = os.pathsep.join(filter(None, [str(prefix), env.get(var, "")]))
    env["PATH"] = os.pathsep.join([str(prefix / "bin"), env.get("PATH", "")])
    return env


def build_package(name: str, prefix: Path, build_root: Path, jobs: int) -> None:
    build = build_root / name
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    steps = [
        ["cmake", "-S", str(HERE / name), "-B", str(build), *generator,
         f"-DCMAKE_INSTALL_PREFIX={prefix}", f"-DPython3_EXECUTABLE={sys.executable}",
         "-DBUILD_TESTING=OFF"],
        ["cmake", "--build", str(build), "--parallel", str(jobs)],
        ["cmake", "--install", str(build)],
    ]
    log = build / "build.log"
    env = build_env(prefix)
    with log.open("w") as out:
        for step in steps:
            if subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, env=env).returncode:
                sys.stderr.write(log.read_text()[-6000:])
                raise SystemExit(f"interfaces: {name} failed at `{' '.join(step[:2])}` (log {log})")


def check_tools() -> None:
    missing = [tool for tool in ("cmake", "c++", "cc") if not shutil.which(tool)]
    if missing:
        raise SystemExit(f"interfaces: {', '.join(missing)} not found: apt-get install cmake g++")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", default=list(PACKAGES), help="default: all")
    parser.add_argument("--build-dir", type=Path, default=HERE.parent / "build" / "interfaces")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--force", action="store_true", help="rebuild unchanged packages")
    args = parser.parse_args(argv)
    prefix = Path(sys.prefix).resolve()
    todo = []
    for name in args.packages:
        other = provided_elsewhere(name, prefix)
        stamp = prefix / "share" / name / STAMP
        digest = source_hash(HERE / name)
        if other is not None:
            print(f"interfaces: {name} from {other}")
        elif not args.force and stamp.is_file() and stamp.read_text().strip() == digest:
            print(f"interfaces: {name} up to date")
        else:
            todo.append((name, stamp, digest))
    if not todo:
        return 0
    check_tools()
    fixed = fix_exported_include_dirs(prefix)
    if fixed:
        print(f"interfaces: include paths fixed in {fixed} exported CMake files")
    for name, stamp, digest in todo:
        start = time.monotonic()
        build_package(name, prefix, args.build_dir, args.jobs)
        stamp.write_text(digest + "\n")
        print(f"interfaces: {name} built in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
