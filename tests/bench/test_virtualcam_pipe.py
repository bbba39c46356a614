"""bench/virtualcam_pipe.py runs against the pipe as it is: the real Camera into a null backend."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "virtualcam_pipe.py"


def test_measures_the_core_the_pipe_and_a_live_source() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--model", "tiny", "--resolutions", "720p", "--frames", "5", "--repeats", "1",
         "--threads", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    row = re.search(r"^\| 720p \| (rgb|i420) \|(.*)\|$", run.stdout, re.MULTILINE)
    assert row, run.stdout
    cells = [float(c) for c in row.group(2).split("|")]
    core, pipe, _, source, sent, dropped = cells[:6]
    assert core > 0 and pipe > 0 and source > 0 and sent == 5 and dropped == 0
