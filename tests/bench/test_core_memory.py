"""bench/core_memory.py runs against the core as it is and reports the peak memory of one image."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench_scripts import run_bench


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_reports_peak_memory_for_one_image(tiny_model: Path, dtype: str) -> None:
    out = run_bench("core_memory.py", "--model", str(tiny_model), "--megapixels", "0.3", "--tile", "256",
                    "--dtype", dtype)
    row = re.search(rf"^\| \d+×\d+ \(0\.3 MP\) \| {dtype} \| 256 \| (\d+) MiB \| (\d+) MiB \|", out, re.MULTILINE)
    assert row, out
    assert 0 < int(row.group(1)) <= int(row.group(2))
