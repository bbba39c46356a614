"""The command line runs a model's int8 sibling on the CPU, says so, and ``--float32`` keeps float32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from image_files import load, noise, save, sharpen_one
from kdsharp import RuntimeConfig, Sharpener
from onnx_models import write_int8_sibling, write_model

CPU = ("--providers", "cpu", "--threads", "1")


@pytest.fixture
def with_int8(tmp_path: Path) -> Path:
    path = write_model(tmp_path / "model" / "m.onnx")
    write_int8_sibling(path)
    return path


def test_sharpen_runs_int8_and_float32_on_request(cli, with_int8: Path, tmp_path: Path) -> None:
    pixels = noise((40, 52, 3))
    src = save(pixels, tmp_path / "in.png")
    runs = {}
    for int8, extra in ((True, ()), (False, ("--float32",))):
        dst = tmp_path / f"out-{int8}.png"
        sharpen_one(cli, ("--model", str(with_int8), *CPU), src, dst, *extra)
        expected = Sharpener(with_int8, config=RuntimeConfig(providers=("CPUExecutionProvider",), int8=int8))
        runs[int8] = load(dst)
        np.testing.assert_array_equal(runs[int8], expected.sharpen(pixels))
    assert not np.array_equal(runs[True], runs[False])


def test_info_and_bench_name_the_file_that_runs(cli, with_int8: Path) -> None:
    report = json.loads(cli("info", "--json", "--model", with_int8, *CPU).out)
    assert report["model"]["path"] == str(with_int8)
    assert report["model"]["runs"] == str(with_int8.with_name("m.int8.onnx"))
    assert json.loads(cli("info", "--json", "--float32", "--model", with_int8, *CPU).out)["model"]["runs"] == str(with_int8)
    bench = cli("bench", "--model", with_int8, "--sizes", "64x48", "--repeat", "1", *CPU)
    assert bench.code == 0, bench.err
    assert "model m.int8.onnx (test_tiny)" in bench.out
