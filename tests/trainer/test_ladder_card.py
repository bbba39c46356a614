"""The model card's ladder: rows from several results files of one protocol, a table and a figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kdsharp_train.cli import main
from kdsharp_train.ladder_card import LadderError, ladder_rows, ladder_table


def _row(name: str, psnr: float, gflops: float | None = None, inputs: list[float] | None = None) -> dict:
    return {"name": name, "gflops_1080p": gflops, "mean": {"psnr": psnr},
            "psnr_per_photo": {"gauss_s1.0": inputs or [psnr]},
            "robustness": {"worst_delta_db": psnr - 30.0, "worst_case": "gauss_s1.0"}}


def _results(path: Path, rows: list[dict]) -> Path:
    path.write_text(json.dumps({"methods": rows}))
    return path


def test_rungs_from_two_files_with_the_references(tmp_path: Path) -> None:
    base = [_row("input", 30.0, inputs=[30.0]), _row("unsharp (tuned)", 30.5), _row("Polyblur (blind, one setting)", 30.2)]
    a = _results(tmp_path / "a.json", base + [_row("teacher: t.json", 31.0, 413.0)])
    b = _results(tmp_path / "b.json", base + [_row("student: q.json", 30.6, 16.5), _row("student: f.json", 30.1, 2.6)])
    rows, refs = ladder_rows([a, b], [("fast", "student: f.json"), ("quality", "student: q.json"), ("max", "teacher: t.json")])
    assert [r.rung for r in rows] == ["fast", "quality", "max"] and refs["input"] == 30.0
    table = ladder_table(rows, refs)
    assert "| quality | student: q.json | 16.5 | 30.60 | +0.60 | +0.10 | -0.40 |" in table
    out = tmp_path / "ladder.png"
    assert main(["ladder", "--results", str(a), str(b), "--rung", "fast=student: f.json", "--rung", "max=teacher: t.json",
                 "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_files_of_different_protocols_or_missing_rows_are_refused(tmp_path: Path) -> None:
    a = _results(tmp_path / "a.json", [_row("input", 30.0, inputs=[30.0])])
    b = _results(tmp_path / "b.json", [_row("input", 30.0, inputs=[29.0])])
    with pytest.raises(LadderError, match="input rows differ"):
        ladder_rows([a, b], [])
    with pytest.raises(LadderError, match="no row 'student: x'"):
        ladder_rows([a], [("fast", "student: x")])
    assert main(["ladder", "--results", str(a), "--rung", "fast"]) == 2
