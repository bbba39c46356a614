"""The installed ``kdsharp`` console script, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

KDSHARP = Path(sys.executable).with_name("kdsharp")


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(KDSHARP), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_batch_with_a_bad_file(tiny_model: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "photo.jpg").write_text("not a photo")
    proc = run("sharpen", "good.png", "photo.jpg", "-o", "out", "--model", tiny_model, cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "kdsharp: error: photo.jpg: not an image (cannot identify image file)" in proc.stderr.splitlines()
    assert "kdsharp: 1 of 2 inputs failed:" in proc.stderr
    assert (tmp_path / "out" / "good.png").is_file()
    assert not (tmp_path / "out" / "photo.jpg").exists()
    # onnxruntime-gpu's complaints about missing CUDA libraries stay hidden on CPU-only machines.
    assert "libcudart" not in proc.stderr and "libcublas" not in proc.stderr


def test_help_and_usage_error(tmp_path: Path) -> None:
    ok = run("--help", cwd=tmp_path)
    assert ok.returncode == 0
    for command in ("sharpen", "video", "info", "bench", "install", "uninstall"):
        assert command in ok.stdout
    bad = run("sharpen", cwd=tmp_path)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_info_runs(tiny_model: Path, tmp_path: Path) -> None:
    proc = run("info", "--model", tiny_model, "--providers", "cpu", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "CPUExecutionProvider" in proc.stdout
