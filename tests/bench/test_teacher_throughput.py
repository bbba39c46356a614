"""bench/teacher_throughput.py runs against the trainer's models as they are: one AdamW step per candidate."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "teacher_throughput.py"


def test_times_one_training_step_of_every_candidate() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--threads", "1", "--batch", "1", "--crop", "32", "--steps", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    rows = re.findall(r"^\| (nafnet|edsr) \| .* \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", run.stdout, re.MULTILINE)
    assert [r[0] for r in rows] == ["nafnet", "nafnet", "nafnet", "edsr"], run.stdout
    assert all(float(v) > 0 for r in rows for v in r[1:])
