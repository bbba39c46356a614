"""``kdsharp info``, ``kdsharp bench`` and ``kdsharp install/uninstall gimp``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import onnxruntime
import pytest

from kdsharp import Sharpener


class TestInfo:
    def test_json_reports_the_live_session_and_metadata(self, cli, model_args, core: Sharpener, tiny_model: Path) -> None:
        result = cli("info", "--json", *model_args)
        assert result.code == 0, result.err
        report = json.loads(result.out)
        assert report["providers_chosen"] == core.providers == ["CPUExecutionProvider"]
        assert report["providers_requested"] == ["CPUExecutionProvider"]
        assert report["providers_available"] == onnxruntime.get_available_providers()
        model = report["model"]
        assert model["sha256"] == core.info.sha256
        assert model["architecture"] == "test_tiny"
        assert model["size_multiple"] == 4
        assert model["color_space"] == "rgb"
        assert model["training"] == dict(core.info.training)
        assert report["versions"]["onnxruntime"].startswith(onnxruntime.__version__)
        assert set(report["versions"]) == {"kdsharp", "python", "numpy", "onnxruntime"}

    def test_text(self, cli, model_args, core: Sharpener) -> None:
        result = cli("info", *model_args)
        assert result.code == 0, result.err
        assert re.search(r"chosen:\s+CPUExecutionProvider", result.out)
        assert core.info.sha256 in result.out
        assert "architecture      test_tiny" in result.out

    def test_default_providers_fall_back_truthfully(self, cli, tiny_model: Path) -> None:
        result = cli("info", "--json", "--model", tiny_model)
        assert result.code == 0, result.err
        # No GPU on CI machines: CUDA/TensorRT are listed as available but do not start.
        assert json.loads(result.out)["providers_chosen"] == Sharpener(tiny_model).providers

    def test_missing_model_prints_what_it_knows_then_one_error(self, cli, tmp_path: Path) -> None:
        result = cli("info", "--model", tmp_path / "none.onnx")
        assert result.code == 1
        assert "onnxruntime" in result.out
        assert result.err.strip() == f"kdsharp: error: model not found: {tmp_path / 'none.onnx'} (shipped names are: fast, max, nokd, quality, quality_nokd)"


def test_bench_prints_a_table(cli, model_args) -> None:
    result = cli("bench", "--sizes", "32x24,40x36", "--repeat", "1", *model_args)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("kdsharp bench: model tiny_rgb.onnx (test_tiny), providers CPUExecutionProvider")
    assert "e2e/unsharp" in lines[1]
    rows = [line for line in lines if re.match(r"\s+\d+x\d+ \|", line)]
    assert [row.split("|")[0].strip() for row in rows] == ["32x24", "40x36"]
    for row in rows:
        numbers = [float(x) for x in re.findall(r"\d+\.\d+", row)]
        assert len(numbers) == 8 and all(n > 0 for n in numbers)


def test_info_lists_every_installed_rung_with_its_speed(cli) -> None:
    from kdsharp import ladder

    result = cli("info", "--json", "--providers", "cpu", "--threads", "1")
    assert result.code == 0, result.err
    rows = json.loads(result.out)["ladder"]
    assert [r["rung"] for r in rows] == list(ladder.installed_rungs()) and rows
    assert all(r["s_per_megapixel"] > 0 and r["providers"] == ["CPUExecutionProvider"] for r in rows)
    text = cli("info", "--providers", "cpu", "--threads", "1").out
    assert "rung fast" in text and "s per megapixel on CPUExecutionProvider" in text


def test_bench_without_a_model_times_every_rung(cli) -> None:
    from kdsharp import ladder

    result = cli("bench", "--sizes", "64x48", "--repeat", "1", "--providers", "cpu", "--threads", "1")
    assert result.code == 0, result.err
    heads = [line for line in result.out.splitlines() if line.startswith("kdsharp bench: rung ")]
    assert [h.split()[3].rstrip(":") for h in heads] == list(ladder.installed_rungs())


def test_bench_rejects_bad_sizes(cli) -> None:
    result = cli("bench", "--sizes", "huge")
    assert result.code == 2
    assert "bad size 'huge'" in result.err


class TestGimpInstall:
    def test_install_then_uninstall_into_a_prefix(self, cli, tmp_path: Path) -> None:
        pytest.importorskip("kdsharp_gimp.installer", reason="the GIMP engineer's kdsharp_gimp.installer has not landed yet")
        result = cli("install", "gimp", "--prefix", tmp_path)
        assert result.code == 0, result.err
        assert "gimp plug-in installed" in result.out
        installed = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert installed
        result = cli("uninstall", "gimp", "--prefix", tmp_path)
        assert result.code == 0, result.err
        assert "gimp plug-in uninstalled" in result.out
        assert not [p for p in tmp_path.rglob("*") if p.is_file()]
        again = cli("uninstall", "gimp", "--prefix", tmp_path)
        assert again.code == 0 and "nothing removed" in again.out

    def test_unknown_target_is_a_usage_error(self, cli) -> None:
        assert cli("install", "photoshop").code == 2
