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


def test_missing_extra_is_one_line(tmp_path: Path) -> None:
    # sys.modules[name] = None makes "import name" fail as if the package were not installed.
    code = "import sys; sys.modules['av'] = None; from kdsharp.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, "video", "in.mkv", "-o", "out.mkv"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "kdsharp: error: kdsharp video needs the Python package 'av', which is not installed; install it with: pip install 'kdsharp[video]'"
    )


def test_version_and_no_command(tmp_path: Path) -> None:
    from kdsharp import __version__

    assert run("--version", cwd=tmp_path).stdout.strip() == f"kdsharp {__version__}"
    assert run(cwd=tmp_path).returncode == 2
