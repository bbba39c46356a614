"""Run a script of ``bench/`` the way a user does, for the benchmarks' smoke tests (tests/bench)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(script: str, *args: str) -> str:
    """Run ``bench/<script>`` with this interpreter; assert it exits 0 (showing its stderr) and return its stdout."""
    run = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return run.stdout
