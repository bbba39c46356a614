"""bench/student_speed.py runs against the trainer and the core as they are: export, then time through the core."""

from __future__ import annotations

import re

from bench_scripts import run_bench


def test_times_a_student_exported_through_the_core() -> None:
    out = run_bench("student_speed.py", "--arch", "fast", "--args", '{"in_channels": 1}', "--repeats", "1",
                    "--threads", "1")
    row = re.search(r"^\| fast \| (\{.*\}) \|(.*)\|$", out, re.MULTILINE)
    assert row and '"in_channels": 1' in row.group(1), out
    params, gflop, ratio, net_ms, core_1080, core_720 = (float(c) for c in row.group(2).split("|"))
    assert params > 0 and gflop > 0 and ratio > 1 and net_ms > 0 and core_1080 > core_720 > 0
