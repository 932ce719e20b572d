#!/usr/bin/env bash
# colcon build of vla_driving with Debian's colcon, then the installed tree checked from outside
# the checkout with the project's venv Python (what a ROS 2 workspace on the vehicle does).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${VENV:-$ROOT/.venv}"
if ! command -v colcon >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian's colcon (colcon, python3-colcon-ros)"
    apt-get update -qq && apt-get install -y -qq colcon python3-colcon-ros >/dev/null
  else
    echo "colcon not found: apt-get install colcon python3-colcon-ros" >&2; exit 1
  fi
fi
WS="$ROOT/build/colcon-ws"
rm -rf "$WS" && mkdir -p "$WS/src" && ln -s "$ROOT" "$WS/src/vla_driving"
start=$(date +%s)
if ! (cd "$WS" && colcon --log-base log build --packages-select vla_driving \
        --build-base build --install-base install >"$WS/build.log" 2>&1); then
  cat "$WS/build.log" >&2; exit 1
fi
echo "colcon build --packages-select vla_driving: $(( $(date +%s) - start )) s"
set +u
source "$WS/install/setup.bash"
set -u
export PATH="$VENV/bin:$PATH"
cd "$(mktemp -d)"
python3 "$ROOT/.ci/colcon_check.py" "$WS/install/vla_driving"
