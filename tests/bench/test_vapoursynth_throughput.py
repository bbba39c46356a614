"""bench/vapoursynth_throughput.py runs against the filter as it is: vspipe and the core, every format asked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.vapoursynth

BENCH = Path(__file__).resolve().parents[2] / "bench" / "vapoursynth_throughput.py"


def test_measures_every_format_through_vspipe_and_the_core() -> None:
    formats = ("RGB24", "YUV420P8", "YUV420P10", "GRAYS")
    run = subprocess.run(
        [sys.executable, str(BENCH), "--model", "tiny", "--resolutions", "480p", "--formats", ",".join(formats),
         "--frames", "4", "--rounds", "1", "--threads", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    rows = {m.group(1): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"^480p\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+$", run.stdout, re.MULTILINE)}
    assert sorted(rows) == sorted(formats), run.stdout
    assert all(core > 0 and piped > 0 for core, piped in rows.values())
