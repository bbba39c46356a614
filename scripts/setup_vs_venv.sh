#!/usr/bin/env bash
# Create .venv-vs: a Python >= 3.12 venv with VapourSynth (PyPI wheel, includes vspipe)
# and this checkout installed editable with the `vs` and `dev` extras, plus
# scikit-image for the photo test clips.
#
# It also runs `vapoursynth config` so vspipe can embed this venv's Python.
#
# Usage: scripts/setup_vs_venv.sh            (from anywhere; idempotent, fast when done)
#        PYTHON312=/path/to/python3.12 scripts/setup_vs_venv.sh
# Then:  .venv-vs/bin/python -m pytest -m vapoursynth tests/plugins/vapoursynth tests/bench
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-vs"
stamp="$venv/.kdsharp-vs-setup"

find_python() {
    local candidate
    for candidate in "${PYTHON312:-}" python3.12 python3.13 \
        "$HOME/.pyenv/versions/3.12.1/bin/python3.12" /root/.pyenv/versions/3.12.1/bin/python3.12 \
        "$HOME"/.pyenv/versions/3.12*/bin/python3.12 "$HOME"/.pyenv/versions/3.13*/bin/python3.13; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# What the install depends on: re-run pip only when these change.
fingerprint() {
    cat "$root/setup.cfg" "$root/pyproject.toml" "$0" | sha256sum | cut -d' ' -f1
}

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(fingerprint)" ] &&
    "$venv/bin/python" -c 'import vapoursynth, kdsharp, kdsharp_vs, skimage, onnx, pytest' 2>/dev/null &&
    [ -x "$venv/bin/vspipe" ] && ! "$venv/bin/vapoursynth" check-env | grep -q "NOT CONFIGURED"; then
    echo "setup_vs_venv: $venv is up to date"
    exit 0
fi

python="$(find_python)" || {
    echo "setup_vs_venv: no Python >= 3.12 found (VapourSynth's PyPI wheel needs it); set PYTHON312=/path/to/python3.12" >&2
    exit 1
}
echo "setup_vs_venv: creating $venv with $python"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e "$root[vs,dev]" "scikit-image>=0.22"
"$venv/bin/python" -c 'import vapoursynth as vs; print("setup_vs_venv: VapourSynth", vs.core.core_version.release_major)'
[ -x "$venv/bin/vspipe" ] || { echo "setup_vs_venv: vspipe missing from $venv/bin" >&2; exit 1; }
# vspipe embeds Python through libvsscript, which finds libpython through a
# per-installation entry in ~/.config/vapoursynth/vapoursynth.toml (other
# installations' entries are kept). This is VapourSynth's own setup step.
"$venv/bin/vapoursynth" config
"$venv/bin/vspipe" --version >/dev/null 2>&1 || { echo "setup_vs_venv: vspipe cannot start; run $venv/bin/vapoursynth check-env" >&2; exit 1; }
fingerprint >"$stamp"
echo "setup_vs_venv: ready: $venv"
