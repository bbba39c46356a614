#!/usr/bin/env bash
# Take the README's GIMP screenshots (docs/img/gimp-dialog.png, docs/img/gimp-result.png)
# in real GIMP 3 under Xvfb inside the Debian 13 root.
#
# Usage: scripts/gimp_screenshots.sh [MODEL.onnx]
#   Without an argument the shipped default model is used (it must exist).
# Installs this checkout into the root's /opt/kdsharp venv and the plug-in
# into the root's GIMP profile, as the tests do.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PYTHON="${KDSHARP_HOST_PYTHON:-$REPO/.venv/bin/python}"
MODEL="${1:-}"

ROOT="$("$HERE/build_gimp_root.sh")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/wheel" "$WORK/shots"
"$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation --disable-pip-version-check -w "$WORK/wheel" "$REPO"
"$PYTHON" -c "
from skimage import data
from PIL import Image
Image.fromarray(data.astronaut()[:420, 40:500]).save('$WORK/shots/photo.png')
"
GUEST_MODEL=""
if [ -n "$MODEL" ]; then
    cp "$MODEL" "$WORK/shots/model.onnx"
    GUEST_MODEL="/shots/model.onnx"
fi
cp "$HERE/gimp_screenshots.py" "$WORK/"
WHEEL="$(basename "$WORK"/wheel/kdsharp-*.whl)"

"$HERE/gimp_root_run.sh" --root "$ROOT" --bind "$WORK/shots:/shots" --bind "$WORK:/work" \
    --env KDSHARP_SHOTS=/shots --env "KDSHARP_SHOT_MODEL=$GUEST_MODEL" -- sh -c "
set -e
/opt/kdsharp/bin/pip install --quiet --disable-pip-version-check --no-index --no-deps --force-reinstall /work/wheel/$WHEEL
/opt/kdsharp/bin/kdsharp install gimp
Xvfb :98 -screen 0 1240x860x24 -nolisten tcp >/dev/null 2>&1 &
for i in \$(seq 100); do [ -e /tmp/.X11-unix/X98 ] && break; sleep 0.1; done
DISPLAY=:98 timeout 300 gimp-3.0 --no-splash --batch-interpreter=python-fu-eval -b \"exec(open('/work/gimp_screenshots.py').read())\" --quit
"
mkdir -p "$REPO/docs/img"
cp "$WORK/shots/gimp-dialog.png" "$WORK/shots/gimp-result.png" "$REPO/docs/img/"
echo "wrote $REPO/docs/img/gimp-dialog.png and $REPO/docs/img/gimp-result.png"
