"""Fixtures that run real GIMP 3 in the Debian 13 root (``scripts/build_gimp_root.sh``).

The root is built on first use and cached (``~/.cache/kdsharp/gimp-root``).
One session fixture prepares real photos and a tiny contract model, builds a
kdsharp wheel from this checkout, installs it in the root's venv, installs
the plug-in with ``kdsharp install gimp`` there, and runs GIMP twice:

- ``gimp-console-3.0 -i --quit --batch-interpreter=python-fu-eval`` with
  ``gimp_batch_checks.py`` (every non-interactive case);
- ``gimp-3.0`` under Xvfb with ``gimp_gui_checks.py`` (undo and redo with
  real key presses).

Tests skip only where the root cannot be built at all (not running as root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx_models import write_model

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = REPO / "scripts" / "build_gimp_root.sh"
RUN_SCRIPT = REPO / "scripts" / "gimp_root_run.sh"
#: Where the test folder appears inside the root.
GUEST_DIR = "/kdsharp-test"


@dataclass(frozen=True)
class GimpRun:
    """What one session of GIMP checks left behind.

    Attributes:
        dir: host folder with ``in/`` (inputs), ``out/`` (GIMP's outputs).
        results: ``out/results.json`` of the batch checks, by case name.
        gui: ``out/gui.json`` of the GUI checks.
        seconds: wall time of each phase (setup, batch, gui).
        root: the GIMP root folder on the host.
        photos: the input photos by name (``rgb``, ``rgba``, ``gray``, ``rgb16``).
    """

    dir: Path
    results: dict[str, dict[str, Any]]
    gui: dict[str, Any]
    seconds: dict[str, float]
    root: Path
    photos: dict[str, np.ndarray]

    def out(self, name: str) -> Path:
        return self.dir / "out" / name

    def inp(self, name: str) -> Path:
        return self.dir / "in" / name

    def png(self, name: str) -> np.ndarray:
        """An output PNG as an array (8-bit through Pillow, 16-bit RGB through OpenCV)."""
        import cv2

        image = cv2.imread(str(self.out(name)), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise FileNotFoundError(self.out(name))
        if image.ndim == 3:
            image = image[:, :, [2, 1, 0, 3][: image.shape[2]]]
        return np.ascontiguousarray(image)


def photo_rgb() -> np.ndarray:
    """A real photo (scikit-image's astronaut), cut to 222×301×3 uint8: sides not multiples of 4."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[40:262, 100:401])


def photo_rgba() -> np.ndarray:
    """``photo_rgb`` with a varying alpha (30–255, never 0 so PNG keeps every colour)."""
    rgb = photo_rgb()
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    alpha = (30 + (225 * ((xx + 2 * yy) % 97) / 96)).astype(np.uint8)
    return np.dstack([rgb, alpha])


def photo_gray() -> np.ndarray:
    """A real grayscale photo (scikit-image's camera), cut to 203×257 uint8."""
    from skimage import data

    return np.ascontiguousarray(data.camera()[100:303, 150:407])


def photo_rgb16() -> np.ndarray:
    """A real 16-bit RGB photo (scikit-image's coffee), 190×233×3 uint16 using all 16 bits."""
    from skimage import data

    rgb = data.coffee()[60:250, 200:433].astype(np.float64)
    # Smooth the 8-bit steps a little so the low byte carries real values.
    smooth = (rgb + np.roll(rgb, 1, axis=0) + np.roll(rgb, 1, axis=1)) / 3.0
    return np.round(smooth / 255.0 * 65535.0).astype(np.uint16)


def _write_png16(path: Path, rgb16: np.ndarray) -> None:
    import cv2

    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb16[:, :, ::-1])):
        raise RuntimeError(f"cannot write {path}")


def _prepare_inputs(folder: Path) -> dict[str, np.ndarray]:
    from PIL import Image

    folder.mkdir(parents=True)
    write_model(folder / "tiny.onnx")
    photos = {"rgb": photo_rgb(), "rgba": photo_rgba(), "gray": photo_gray(), "rgb16": photo_rgb16()}
    Image.fromarray(photos["rgb"]).save(folder / "photo.png")
    Image.fromarray(photos["rgba"], "RGBA").save(folder / "photo_rgba.png")
    Image.fromarray(photos["gray"], "L").save(folder / "photo_gray.png")
    _write_png16(folder / "photo16.png", photos["rgb16"])
    hang = folder / "hang.sh"
    hang.write_text("#!/bin/sh\nexec sleep 60\n")
    hang.chmod(0o755)
    return photos


def _build_root() -> Path:
    if os.geteuid() != 0:
        pytest.skip(
            "GIMP TESTS SKIPPED: building the Debian 13 GIMP root needs root (mmdebstrap, chroot); "
            "run as root or run scripts/build_gimp_root.sh as root first"
        )
    proc = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        pytest.fail(f"scripts/build_gimp_root.sh failed ({proc.returncode}):\n{proc.stderr[-3000:]}", pytrace=False)
    return Path(proc.stdout.strip().splitlines()[-1])


def _in_root(root: Path, workdir: Path, command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(RUN_SCRIPT), "--root", str(root), "--bind", f"{workdir}:{GUEST_DIR}",
         "--env", f"KDSHARP_TEST_DIR={GUEST_DIR}", "--", *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        pytest.fail(f"{what} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="session")
def gimp_run(tmp_path_factory: pytest.TempPathFactory) -> GimpRun:
    """Install kdsharp and the plug-in in the GIMP root and run every GIMP check once."""
    import time

    root = _build_root()
    workdir = tmp_path_factory.mktemp("gimp")
    photos = _prepare_inputs(workdir / "in")
    (workdir / "out").mkdir()
    for script in ("gimp_batch_checks.py", "gimp_gui_checks.py"):
        shutil.copy(HERE / script, workdir / script)
    seconds: dict[str, float] = {}

    start = time.monotonic()
    wheel_dir = workdir / "wheel"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(wheel_dir), str(REPO)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    _check(build, "building the kdsharp wheel")
    wheel = next(wheel_dir.glob("kdsharp-*.whl"))
    setup = _in_root(
        root,
        workdir,
        ["sh", "-c", (
            "/opt/kdsharp/bin/pip install --quiet --disable-pip-version-check --no-index --no-deps "
            f"--force-reinstall {GUEST_DIR}/wheel/{wheel.name} && /opt/kdsharp/bin/kdsharp install gimp"
        )],
        timeout=300,
    )
    _check(setup, "installing kdsharp and the plug-in in the GIMP root")
    seconds["setup"] = time.monotonic() - start

    start = time.monotonic()
    batch = _in_root(
        root,
        workdir,
        ["gimp-console-3.0", "-i", "--quit", "--batch-interpreter=python-fu-eval",
         "-b", f"exec(open('{GUEST_DIR}/gimp_batch_checks.py').read())"],
        timeout=600,
    )
    _check(batch, "gimp-console-3.0 with gimp_batch_checks.py")
    seconds["batch"] = time.monotonic() - start

    start = time.monotonic()
    gui = _in_root(
        root,
        workdir,
        ["sh", "-c", (
            "Xvfb :99 -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 & "
            "for i in $(seq 100); do [ -e /tmp/.X11-unix/X99 ] && break; sleep 0.1; done; "
            f"DISPLAY=:99 KDSHARP_PREVIEW_LOG={GUEST_DIR}/out/preview.jsonl gimp-3.0 --no-splash --batch-interpreter=python-fu-eval "
            f"-b \"exec(open('{GUEST_DIR}/gimp_gui_checks.py').read())\" --quit"
        )],
        timeout=600,
    )
    _check(gui, "gimp-3.0 under Xvfb with gimp_gui_checks.py")
    seconds["gui"] = time.monotonic() - start

    results_file = workdir / "out" / "results.json"
    gui_file = workdir / "out" / "gui.json"
    if not results_file.is_file() or not gui_file.is_file():
        pytest.fail(f"GIMP left no results:\n{batch.stderr[-2000:]}\n{gui.stderr[-2000:]}", pytrace=False)
    return GimpRun(
        dir=workdir,
        results=json.loads(results_file.read_text()),
        gui=json.loads(gui_file.read_text()),
        seconds=seconds,
        root=root,
        photos=photos,
    )
