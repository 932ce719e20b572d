"""Where the package's own files (config/, models/) are: the checkout, else the installed share.

A colcon / `ros2 launch` install finds them through the ament index; a pip install (wheel, venv,
no sourced workspace) through `<sys.prefix>/share/vla_driving`, where `setup.py`'s data files
land. One lookup, used by the profiles, the default bundle and the DDS profile.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vla_driving.constants import PACKAGE

CHECKOUT = Path(__file__).resolve().parents[1]


def share_dirs() -> list[Path]:
    """Installed share directories of the package, the ament index's first."""
    dirs = []
    try:
        from ament_index_python.packages import get_package_share_directory
        dirs.append(Path(get_package_share_directory(PACKAGE)))
    except (ImportError, LookupError, ValueError, OSError):  # not in a sourced ament prefix
        pass
    dirs.append(Path(sys.prefix) / "share" / PACKAGE)
    return [d for d in dirs if d.is_dir()]


def package_file(relative: str | Path) -> Path:
    """`relative` (e.g. `config/sim.yaml`) in the checkout, else in the first share directory
    that has it; the checkout path when none has it (so errors name a path the user knows)."""
    source = CHECKOUT / relative
    if source.exists():
        return source
    for share in share_dirs():
        if (share / relative).exists():
            return share / relative
    return source


def find_bundle(bundle: str) -> str:
    """A bundle path as given, or found in the checkout / installed share when it is relative and
    not in the working directory (`models/default` from anywhere); for argparse `type=`."""
    path = Path(bundle)
    if not bundle or path.is_absolute() or path.exists():
        return bundle
    found = package_file(path)
    return str(found) if found.exists() else bundle
