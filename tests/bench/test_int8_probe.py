"""bench/int8_probe.py quantizes a real contract model and reports its speed and picture cost."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from bench_scripts import BENCH, run_bench


def test_reports_float32_and_int8_rows(tiny_model: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for i in range(5):
        smooth = np.kron(rng.random((40, 40, 3)), np.ones((8, 8, 1)))  # blocky, so the blur changes it
        Image.fromarray((smooth * 255).astype(np.uint8)).save(tmp_path / f"photo{i}.png")
    out = run_bench("int8_probe.py", "--model", str(tiny_model), "--photos", str(tmp_path), "--threads", "1",
                    "--side", "128", "--repeats", "1", "--calibration", "3", "--scored", "2")
    assert "2 photos scored" in out, out
    rows = dict(re.findall(r"^\| (float32|int8) \| ([0-9.]+) \|", out, re.MULTILINE))
    assert set(rows) == {"float32", "int8"} and all(float(v) > 0 for v in rows.values()), out
    parity = re.search(r"^\| int8 \|.*\| ([0-9.]+) \|$", out, re.MULTILINE)
    assert parity and float(parity.group(1)) > 25, out


def test_refuses_a_folder_with_too_few_photos(tiny_model: Path, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(BENCH / "int8_probe.py"), "--model", str(tiny_model), "--photos",
                          str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "need more than 16" in run.stderr and "Traceback" not in run.stderr
