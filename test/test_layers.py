"""The house's rules, checked so the next change cannot quietly undo them.

The layer contracts live in `.importlinter` (import-linter): floors never import the floors above
them, the runtime never imports the training package, only `ros/` and `apps/` import rclpy or
message packages, and training never reaches the nodes or the CLIs.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "vla_driving"


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (the 'dev' extra)")
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
    assert "0 broken" in result.stdout


def test_runtime_does_not_load_training_by_name_either():
    """import-linter sees `import` statements; this catches importlib strings below `apps/`."""
    offenders = [p.relative_to(ROOT).as_posix() for p in RUNTIME.rglob("*.py")
                 if "apps" not in p.relative_to(RUNTIME).parts[:1]
                 and "vla_driving_training" in p.read_text()]
    assert offenders == []


@pytest.mark.parametrize("top", ["vla_driving", "training"])
def test_every_folder_with_python_files_is_a_package(top):
    """`find_packages` skips a folder without `__init__.py`, and a wheel then lacks it."""
    missing = sorted(d.relative_to(ROOT).as_posix() for d in (ROOT / top).rglob("*")
                     if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
                     and not (d / "__init__.py").is_file())
    assert missing == []
