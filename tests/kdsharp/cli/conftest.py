"""Fixtures for the command-line tests: run ``kdsharp.cli.main`` in-process and the core for expected pixels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import pytest

from kdsharp import RuntimeConfig, Sharpener
from kdsharp.cli import main


@dataclass(frozen=True)
class Result:
    """Exit status and captured output of one ``main([...])`` call."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``cli("sharpen", ...)`` runs the command line in-process and captures stdout/stderr."""

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def core(tiny_model: Path) -> Sharpener:
    """The core on the tiny model, for the pixels the CLI must produce."""
    return Sharpener(tiny_model, config=RuntimeConfig(providers=("CPUExecutionProvider",)))


@pytest.fixture
def model_args(tiny_model: Path) -> tuple[str, ...]:
    """Options that make a command use the tiny model on the CPU."""
    return ("--model", str(tiny_model), "--providers", "cpu", "--threads", "1")
