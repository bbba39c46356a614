#!/usr/bin/env bash
# Build (or reuse) the Debian 13 (trixie) root where the GIMP plug-in tests run.
#
# Debian 12 ships GIMP 2.10 without Python; GIMP 3.0 with Python plug-ins comes
# with Debian 13. This script builds a trixie root with mmdebstrap holding
# GIMP 3.0, its Python 3.13 bindings, Xvfb (for screenshots), and a venv
# /opt/kdsharp with onnxruntime, numpy, pillow and tqdm installed from wheels
# downloaded here on the host (the root has no network of its own).
#
# The root is cached outside the work tree and rebuilt only when its recipe
# (this file, or the host's versions of the wheels) changes: a stamp file in
# the root holds their hash.
#
# Usage:   scripts/build_gimp_root.sh            # prints the root's path
# Env:     KDSHARP_CACHE        cache folder (default ~/.cache/kdsharp)
#          KDSHARP_HOST_PYTHON  host Python with pip (default .venv/bin/python, else python3)
# Needs:   root (mmdebstrap --mode=root, chroot), network to the Debian mirror and PyPI.
# Cost:    about 3 minutes and 1.2 GB the first time; a second run with an
#          unchanged recipe returns at once.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
CACHE="${KDSHARP_CACHE:-$HOME/.cache/kdsharp}"
ROOT="$CACHE/gimp-root"
WHEELS="$CACHE/gimp-wheels"
STAMP_NAME=".kdsharp-recipe"

# ---- the recipe -------------------------------------------------------------
SUITE="trixie"
MIRROR="http://deb.debian.org/debian"
PACKAGES="gimp,python3-gi,gir1.2-gimp-3.0,python3-numpy,python3-venv,xvfb,xdotool,x11-apps,netpbm,fonts-dejavu-core"
# Wheels for the root's Python 3.13: the same versions as the host Python's
# (onnxruntime's CPU build for onnxruntime-gpu), so the root and the host
# compute bit-identical results; these pins are used where the host has none.
FALLBACK_SPECS="onnxruntime==1.31.1 numpy==2.4.6 pillow==13.0.0 tqdm==4.70.1"
# -----------------------------------------------------------------------------

log() { echo "build_gimp_root: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "needs root (mmdebstrap --mode=root and chroot); run it as root"
    exit 2
fi

HOST_PYTHON="${KDSHARP_HOST_PYTHON:-}"
if [ -z "$HOST_PYTHON" ]; then
    if [ -x "$REPO/.venv/bin/python" ]; then HOST_PYTHON="$REPO/.venv/bin/python"; else HOST_PYTHON="python3"; fi
fi
read -r -a WHEEL_SPECS <<<"$("$HOST_PYTHON" - "$FALLBACK_SPECS" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

specs = []
for spec in sys.argv[1].split():
    name, _, pin = spec.partition("==")
    found = None
    for dist in ([name, "onnxruntime-gpu"] if name == "onnxruntime" else [name]):
        try:
            found = version(dist)
            break
        except PackageNotFoundError:
            pass
    specs.append(f"{name}=={found or pin}")
print(" ".join(specs))
PY
)"

# One build at a time: a second caller waits here, then finds the stamp.
mkdir -p "$CACHE"
exec 9>"$CACHE/gimp-root.lock"
flock 9

RECIPE_HASH="$({ cat "${BASH_SOURCE[0]}"; echo "${WHEEL_SPECS[*]}"; } | sha256sum | cut -c1-16)"
if [ -f "$ROOT/$STAMP_NAME" ] && [ "$(cat "$ROOT/$STAMP_NAME")" = "$RECIPE_HASH" ]; then
    echo "$ROOT"
    exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap on the host"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap) >&2
fi

START=$SECONDS
log "downloading cp313 wheels (${WHEEL_SPECS[*]}) with $HOST_PYTHON"
rm -rf "$WHEELS.tmp"
"$HOST_PYTHON" -m pip download --quiet --disable-pip-version-check \
    --python-version 3.13 --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$WHEELS.tmp" "${WHEEL_SPECS[@]}" >&2
rm -rf "$WHEELS"
mv "$WHEELS.tmp" "$WHEELS"

BUILD="$ROOT.build"
# --one-file-system: never follow a mount point left by an interrupted build.
rm -rf --one-file-system "$BUILD"
log "building the $SUITE root in $BUILD (a few minutes)"
# In a private mount namespace, so whatever mmdebstrap mounts dies with it.
unshare --mount --propagation private -- mmdebstrap --mode=root --variant=apt --quiet \
    --include="$PACKAGES" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    "$SUITE" "$BUILD" "$MIRROR" >&2

log "creating the venv /opt/kdsharp in the root"
mkdir -p "$BUILD/opt/wheels"
cp "$WHEELS"/*.whl "$BUILD/opt/wheels/"
"$HERE/gimp_root_run.sh" --root "$BUILD" -- sh -c \
    'python3 -m venv /opt/kdsharp && /opt/kdsharp/bin/pip install --quiet --disable-pip-version-check --no-index --find-links /opt/wheels /opt/wheels/*.whl' >&2
rm -rf "$BUILD/opt/wheels"
"$HERE/gimp_root_run.sh" --root "$BUILD" -- gimp-console-3.0 --version >&2

echo "$RECIPE_HASH" >"$BUILD/$STAMP_NAME"
rm -rf --one-file-system "$ROOT"
mv "$BUILD" "$ROOT"
log "done in $((SECONDS - START)) s, $(du -sh "$ROOT" | cut -f1) in $ROOT"
echo "$ROOT"
