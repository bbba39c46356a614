"""The shipped example script, run by the real ``vspipe``: frame count and content."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kdsharp import Sharpener

pytestmark = pytest.mark.vapoursynth

EXAMPLE = Path(__file__).resolve().parents[3] / "plugins" / "vapoursynth" / "examples" / "sharpen.vpy"
VSPIPE = Path(sys.executable).with_name("vspipe")


def vspipe(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VSPIPE), *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A real photo (scikit-image's ``chelsea``, 300×451: odd width) saved as PNG."""
    from skimage import data

    photo = np.ascontiguousarray(data.chelsea()[:, :, :3])
    path = tmp_path_factory.mktemp("example") / "chelsea.png"
    Image.fromarray(photo).save(path)
    return path, photo


def test_vspipe_runs_the_example(photo_file: tuple[Path, np.ndarray], tiny_model: Path, tmp_path: Path) -> None:
    path, photo = photo_file
    args = ("--arg", f"src={path}", "--arg", f"model={tiny_model}", "--arg", "frames=5", "--arg", "strength=1.5")

    info = vspipe(*args, "--info", EXAMPLE, "-")
    assert info.returncode == 0, info.stderr
    assert "Frames: 5" in info.stdout and "RGB24" in info.stdout
    assert f"Width: {photo.shape[1]}" in info.stdout and f"Height: {photo.shape[0]}" in info.stdout

    raw = tmp_path / "out.rgb"
    run = vspipe(*args, EXAMPLE, raw)
    assert run.returncode == 0, run.stderr
    h, w = photo.shape[:2]
    data = np.frombuffer(raw.read_bytes(), dtype=np.uint8)
    assert data.size == 5 * 3 * h * w  # no header: planar frames, RGB written as G, B, R (ffmpeg's gbrp)
    frames = data.reshape(5, 3, h, w)[:, [2, 0, 1]].transpose(0, 2, 3, 1)
    expected = Sharpener(tiny_model).sharpen(photo, strength=1.5)
    assert not np.array_equal(expected, photo)
    for frame in frames:
        np.testing.assert_array_equal(frame, expected)


def test_example_reports_a_bad_model(photo_file: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, _ = photo_file
    run = vspipe("--arg", f"src={path}", "--arg", f"model={tmp_path / 'missing.onnx'}", EXAMPLE, "--")
    assert run.returncode != 0
    assert "kdsharp_vs.sharpen: model not found" in run.stderr


def test_example_needs_a_source() -> None:
    run = vspipe(EXAMPLE, "--")
    assert run.returncode != 0
    assert "pass the input with --arg src=" in run.stderr
