"""The distribution: one setup.cfg, a build-system-only pyproject, weights as package data."""

from __future__ import annotations

import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kdsharp import shipped

REPO = Path(__file__).resolve().parents[1]


def test_pyproject_holds_only_build_system() -> None:
    text = (REPO / "pyproject.toml").read_text()
    sections = [line.strip() for line in text.splitlines() if line.strip().startswith("[")]
    assert sections == ["[build-system]"]


def test_runtime_markers_never_install_both_onnxruntimes() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    requires = [r.strip() for r in cfg["options"]["install_requires"].splitlines() if r.strip()]
    gpu = [r for r in requires if r.startswith("onnxruntime-gpu")]
    cpu = [r for r in requires if r.startswith("onnxruntime") and not r.startswith("onnxruntime-gpu")]
    assert len(gpu) == 1 and len(cpu) == 1
    from packaging.markers import Marker

    gpu_marker, cpu_marker = Marker(gpu[0].split(";", 1)[1]), Marker(cpu[0].split(";", 1)[1])
    for machine in ("x86_64", "aarch64", "AMD64", "arm64"):
        for platform in ("linux", "win32", "darwin"):
            env = {"platform_machine": machine, "sys_platform": platform}
            assert gpu_marker.evaluate(env) != cpu_marker.evaluate(env), env
    for extra in cfg["options.extras_require"].values():
        assert "onnxruntime" not in extra


@pytest.mark.slow
def test_wheel_carries_weights_and_entry_points(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("kdsharp-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "kdsharp/weights/__init__.py" in names
    assert "kdsharp/sharpener.py" in names and "kdsharp/cli/__init__.py" in names
    for rel in shipped.read_sums(shipped.weights_dir()):
        if rel.endswith(".onnx"):
            assert f"kdsharp/weights/{rel}" in names, rel
    if (shipped.weights_dir() / shipped.SUMS_FILE).exists():
        assert "kdsharp/weights/SHA256SUMS" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for script in ("kdsharp = kdsharp.cli:main", "kdsharp-train = kdsharp_train.launch:main", "kdsharp-cam = kdsharp_cam.launch:main"):
        assert script in text
