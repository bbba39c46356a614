"""float16 siblings made from a shipped float32 model file: parity measured, metadata kept, sealed, summed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from kdsharp_train.cli import main
from kdsharp_train.export import ExportError
from kdsharp_train.fp16 import fp16_sibling
from onnx_models import write_model

from kdsharp import RuntimeConfig, Sharpener, contract


def test_sibling_runs_in_float16_with_its_parity_and_the_same_contract(tmp_path: Path) -> None:
    weights = tmp_path / "weights"
    model = write_model(weights / "m.onnx", channels=1, multiple=4)
    (weights / "SHA256SUMS").write_text("")
    line = fp16_sibling(model)
    sibling = weights / "m.fp16.onnx"
    assert str(sibling) in line and "listed in" in line
    assert "m.fp16.onnx" in (weights / "SHA256SUMS").read_text()
    cpu = RuntimeConfig(providers=("CPUExecutionProvider",), threads=1)
    half, full = Sharpener(sibling, config=cpu), Sharpener(model, config=cpu)
    assert half.info.dtype == "float16" and half.info.color_space == full.info.color_space == "luma"
    meta = {p.key: p.value for p in onnx.load(str(sibling)).metadata_props}
    assert 0 < json.loads(meta[contract.KEY_METRICS])["fp16_parity_max_abs"] < 2e-3
    img = (np.random.default_rng(1).random((37, 53, 3)) * 255).astype(np.uint8)
    assert np.abs(half.sharpen(img).astype(int) - full.sharpen(img)).max() <= 1


def test_refusals(tmp_path: Path) -> None:
    model = write_model(tmp_path / "m.onnx")
    fp16_sibling(model)
    with pytest.raises(ExportError, match="not a float32 kdsharp model"):
        fp16_sibling(tmp_path / "m.fp16.onnx")
    with pytest.raises(ExportError, match="parity"):
        fp16_sibling(model, tolerance=1e-9)
    assert main(["fp16", str(tmp_path / "m.fp16.onnx")]) == 2
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ExportError, match="not an ONNX model"):
        fp16_sibling(garbage)
    assert not (tmp_path / "garbage.fp16.onnx").exists()
