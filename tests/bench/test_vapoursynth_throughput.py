"""bench/vapoursynth_throughput.py runs against the filter as it is: vspipe and the core, every format asked."""

from __future__ import annotations

import re

import pytest

from bench_scripts import run_bench

pytestmark = pytest.mark.vapoursynth


def test_measures_every_format_through_vspipe_and_the_core() -> None:
    formats = ("RGB24", "YUV420P8", "YUV420P10", "GRAYS")
    out = run_bench("vapoursynth_throughput.py", "--model", "tiny", "--resolutions", "480p",
                    "--formats", ",".join(formats), "--frames", "4", "--rounds", "1", "--threads", "1")
    rows = {m.group(1): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"^480p\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+$", out, re.MULTILINE)}
    assert sorted(rows) == sorted(formats), out
    assert all(core > 0 and piped > 0 for core, piped in rows.values())
