"""bench/virtualcam_pipe.py runs against the pipe as it is: the real Camera into a null backend."""

from __future__ import annotations

import re

from bench_scripts import run_bench


def test_measures_the_core_the_pipe_and_a_live_source() -> None:
    out = run_bench("virtualcam_pipe.py", "--model", "tiny", "--resolutions", "720p", "--frames", "5",
                    "--repeats", "1", "--threads", "1")
    row = re.search(r"^\| 720p \| (rgb|i420) \|(.*)\|$", out, re.MULTILINE)
    assert row, out
    cells = [float(c) for c in row.group(2).split("|")]
    core, pipe, _, source, sent, dropped = cells[:6]
    assert core > 0 and pipe > 0 and source > 0 and sent == 5 and dropped == 0
