"""bench/core_memory.py runs against the core as it is and reports the peak memory of one image."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "core_memory.py"


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_reports_peak_memory_for_one_image(tiny_model: Path, dtype: str) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--model", str(tiny_model), "--megapixels", "0.3", "--tile", "256",
         "--dtype", dtype],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    row = re.search(rf"^\| \d+×\d+ \(0\.3 MP\) \| {dtype} \| 256 \| (\d+) MiB \| (\d+) MiB \|", run.stdout, re.MULTILINE)
    assert row, run.stdout
    assert 0 < int(row.group(1)) <= int(row.group(2))
