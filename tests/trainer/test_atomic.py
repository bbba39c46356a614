"""Atomic writes: all or nothing, no temporary file left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from kdsharp_train import atomic


def test_success_replaces_and_keeps_suffix(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "curves.png"
    with atomic.replacing(target) as tmp:
        assert tmp.suffix == ".png" and tmp.parent == target.parent
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in target.parent.iterdir()] == ["curves.png"]


def test_failure_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "results.md"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic.replacing(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer died")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.md"]
