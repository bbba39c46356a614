#!/usr/bin/env bash
# The GPU path of the core, checked in one run (under 8 minutes on a CUDA machine): which providers really
# start, tiled = untiled on the GPU, fp16 parity per rung, 1080p and 4K frames per second per rung and
# provider, vspipe with num_streams=2. On a machine where no CUDA session starts: one line, exit 0.
#
#   bash bench/gpu_check.sh [--frames 20] [--rungs fast,nokd]
#
# It needs kdsharp with onnxruntime-gpu (and, for the vspipe line, VapourSynth). PY picks the Python
# (default: .venv/bin/python, else python3). Where the machine has no network, wheels carried in .whl/
# are installed first (pip --no-index), into a venv of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-}
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if ! "$PY" -c "import kdsharp, onnxruntime" 2>/dev/null; then
    venv=${TMPDIR:-/tmp}/kdsharp-gpu-check
    [ -x "$venv/bin/python" ] || "$PY" -m venv --system-site-packages "$venv"
    if [ -d .whl ]; then
        "$venv/bin/python" -m pip install -q --no-index --find-links .whl --no-deps .whl/*.whl
        "$venv/bin/python" -m pip install -q --no-index --no-deps --no-build-isolation -e .
    else
        "$venv/bin/python" -m pip install -q -e .
    fi
    PY=$venv/bin/python
fi
exec timeout 480 "$PY" bench/gpu_check.py "$@"
