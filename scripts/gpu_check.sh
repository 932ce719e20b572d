#!/usr/bin/env bash
# The GPU check (docs/gpu.md): `vla-driving bench gpu` as one command, without installing the
# project. Installs the wheels carried in .whl/ (GPTQModel and the small packages it needs;
# git-ignored, see docs/gpu.md) when GPTQModel is not importable, runs from the checkout
# (PYTHONPATH), offline, and writes the table and JSON to $OUT (default build/gpu_check).
# Arguments go to the bench, e.g. `scripts/gpu_check.sh --cycles 20` for a quick CPU try.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${PYTHON:-}" ]; then py=$PYTHON
elif [ -x .venv/bin/python ]; then py=.venv/bin/python
else py=python3
fi
if ! "$py" -c "import gptqmodel" >/dev/null 2>&1 && compgen -G ".whl/*.whl" >/dev/null; then
  site=${WHEEL_SITE:-/tmp/vla_driving_site}
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" .whl/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
  # PyPcre's extension links libpcre2-8.so.0; a copy travels in case the system lacks it
  if [ -d .whl/lib ]; then export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$PWD/.whl/lib"; fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 USE_HUB_KERNELS=0 PYTHONUNBUFFERED=1
# GPTQModel would nvcc-compile its CUDA GPTQ block update on first use (minutes): use torch's
export GPTQMODEL_DISABLE_GPTQ_CUDA=${GPTQMODEL_DISABLE_GPTQ_CUDA:-1}
out=${OUT:-build/gpu_check}
mkdir -p "$out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
rc=0
"$py" -m vla_driving.apps.cli bench gpu --json "$out/bench_gpu.json" "$@" \
  >"$out/bench_gpu.txt" 2>"$out/bench_gpu.log" || rc=$?
echo "--- last lines of $out/bench_gpu.log (stderr) ---"
grep -v $'\r' "$out/bench_gpu.log" | tail -n 25 || true
echo "--- table ($out/bench_gpu.txt, exit $rc) ---"
cat "$out/bench_gpu.txt"
exit $rc
