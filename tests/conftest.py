"""Shared fixtures: tiny contract models written to a per-session folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from onnx_models import write_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random RGB model (size multiple 4) following the kdsharp contract."""
    return write_model(tmp_path_factory.mktemp("models") / "tiny_rgb.onnx")


@pytest.fixture(scope="session")
def tiny_luma_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random luma (1-channel) model following the kdsharp contract."""
    return write_model(tmp_path_factory.mktemp("models") / "tiny_luma.onnx", channels=1)
