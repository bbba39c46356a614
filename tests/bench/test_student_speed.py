"""bench/student_speed.py runs against the trainer and the core as they are: export, then time through the core."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "student_speed.py"


def test_times_a_student_exported_through_the_core() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--arch", "fast", "--args", '{"in_channels": 1}', "--repeats", "1",
         "--threads", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    row = re.search(r"^\| fast \| (\{.*\}) \|(.*)\|$", run.stdout, re.MULTILINE)
    assert row and '"in_channels": 1' in row.group(1), run.stdout
    params, gflop, ratio, net_ms, core_1080, core_720 = (float(c) for c in row.group(2).split("|"))
    assert params > 0 and gflop > 0 and ratio > 1 and net_ms > 0 and core_1080 > core_720 > 0
