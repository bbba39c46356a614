#!/usr/bin/env bash
# Test prerequisites of kdsharp-cam (tests/virtualcam): an X server for the
# --preview tests (Xvfb) and Tk for the venv's Python. Idempotent; installs
# only what is missing (Debian/Ubuntu). Usage: scripts/setup_cam_test_deps.sh [python]
set -euo pipefail
PY=${1:-.venv/bin/python}
need=()
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
"$PY" -c "import tkinter" >/dev/null 2>&1 || need+=(python3-tk)
if ((${#need[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
"$PY" -c "import tkinter" || {
    echo "setup_cam_test_deps: $PY has no tkinter (a pyenv-built Python needs tk-dev when it is built)" >&2
    exit 1
}
command -v Xvfb >/dev/null
