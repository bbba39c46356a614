"""bench/frame_graph.py wraps a real contract model in a uint8-planes graph that matches the core and times both."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench_scripts import BENCH, run_bench


@pytest.mark.parametrize("which", ["tiny_model", "tiny_luma_model"])
def test_graph_matches_the_core_and_every_path_is_timed(which: str, request: pytest.FixtureRequest) -> None:
    model: Path = request.getfixturevalue(which)
    out = run_bench("frame_graph.py", "--model", str(model), "--size", "64x48", "--threads", "1", "--repeats", "2",
                    "--profile")
    times = re.findall(r"^\| (the [^|]+|conversions [^|]+) \| ([0-9.]+) \|$", out, re.MULTILINE)
    assert len(times) == 4 and sum(float(ms) for _, ms in times) > 0, out
    levels = re.search(r"graph vs core: max (\d+) levels", out)
    assert levels and int(levels.group(1)) <= 1, out  # rounding order only
    assert re.search(r"^\| Cast \| [0-9.]+ \|$", out, re.MULTILINE), out


@pytest.mark.parametrize(
    "size,words",
    [("30x30", "not a multiple"), ("8x8", "too small for the"), ("abc", "is not WxH"), ("0x16", "at least 1")],
)
def test_refuses_a_frame_the_model_cannot_take(tiny_model: Path, size: str, words: str) -> None:
    run = subprocess.run([sys.executable, str(BENCH / "frame_graph.py"), "--model", str(tiny_model), "--size", size],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and words in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    for model in (tmp_path / "missing.onnx", Path(__file__)):
        run = subprocess.run([sys.executable, str(BENCH / "frame_graph.py"), "--model", str(model)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("frame_graph: "), run.stderr
