"""bench/teacher_throughput.py runs against the trainer's models as they are: one AdamW step per candidate."""

from __future__ import annotations

import re

from bench_scripts import run_bench


def test_times_one_training_step_of_every_candidate() -> None:
    out = run_bench("teacher_throughput.py", "--threads", "1", "--batch", "1", "--crop", "32", "--steps", "1")
    rows = re.findall(r"^\| (nafnet|edsr) \| .* \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", out, re.MULTILINE)
    assert [r[0] for r in rows] == ["nafnet", "nafnet", "nafnet", "edsr"], out
    assert all(float(v) > 0 for r in rows for v in r[1:])
