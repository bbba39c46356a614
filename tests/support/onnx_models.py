"""Tiny kdsharp-contract ONNX models built on the fly with the ``onnx`` package.

Tests use these until (and besides) the real weights: they follow the same
contract as the trainer's exports, so every host path is exercised for real
through onnxruntime, without torch and in milliseconds.

The network mimics the real ``fast`` student: a strided conv head (kernel 3r,
stride r, padding r), ReLU, a ``ConvTranspose`` (kernel r, stride r) tail and a
global residual, so inputs whose sides are not multiples of ``r`` fail inside
onnxruntime; the core must pad them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from kdsharp import contract


def build_model(
    *,
    channels: int = 3,
    multiple: int = 4,
    features: int = 8,
    seed: int = 0,
    color_space: str | None = None,
    dtype: str = "float32",
    metadata: Mapping[str, str] | None = None,
    drop_keys: tuple[str, ...] = (),
    input_name: str = contract.INPUT_NAME,
    output_name: str = contract.OUTPUT_NAME,
    gain: float = 0.5,
) -> bytes:
    """Return the sealed bytes of a tiny random model.

    Args:
        channels: 3 (``rgb``) or 1 (``luma``).
        multiple: stride ``r`` of the head, the model's size multiple.
        features: hidden channels.
        seed: weights seed.
        color_space: defaults to ``rgb`` for 3 channels, ``luma`` for 1.
        dtype: ``float32`` or ``float16`` graph precision.
        metadata: entries that override the generated metadata.
        drop_keys: metadata keys left out (to test contract refusal).
        input_name, output_name: graph IO names (to test contract refusal).
        gain: scale of the residual branch; larger makes a stronger effect.
    """
    rng = np.random.default_rng(seed)
    r = multiple
    np_dtype = np.float16 if dtype == "float16" else np.float32
    elem = TensorProto.FLOAT16 if dtype == "float16" else TensorProto.FLOAT
    k = 3 * r
    w1 = (rng.standard_normal((features, channels, k, k)) / (k * np.sqrt(channels))).astype(np_dtype)
    b1 = (rng.standard_normal(features) * 0.05).astype(np_dtype)
    w2 = (rng.standard_normal((features, channels, r, r)) * gain / features).astype(np_dtype)
    b2 = np.zeros(channels, dtype=np_dtype)
    # A centred high-pass inside the residual: the model does sharpen-like work.
    nodes = [
        helper.make_node("Conv", [input_name, "w1", "b1"], ["h"], kernel_shape=[k, k], strides=[r, r], pads=[r, r, r, r]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("ConvTranspose", ["hr", "w2", "b2"], ["d"], kernel_shape=[r, r], strides=[r, r]),
        helper.make_node("Add", [input_name, "d"], [output_name]),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
    graph = helper.make_graph(
        nodes,
        "kdsharp_test",
        [helper.make_tensor_value_info(input_name, elem, ["N", channels, "H", "W"])],
        [helper.make_tensor_value_info(output_name, elem, ["N", channels, "H", "W"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta: dict[str, Any] = contract.metadata_for(
        architecture="test_tiny",
        size_multiple=r,
        color_space=color_space or ("rgb" if channels == 3 else "luma"),
        receptive_radius=2 * r,
        arch_args={"channels": channels, "multiple": r, "features": features},
        training={"note": "random weights built by tests/onnx_models.py"},
        metrics={},
    )
    meta.update(metadata or {})
    for key in drop_keys:
        meta.pop(key, None)
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    data = model.SerializeToString()
    return contract.seal(data) if contract.SHA256_PLACEHOLDER in meta.values() else data


def write_model(path: Path, **kwargs: Any) -> Path:
    """Write ``build_model(**kwargs)`` to ``path`` and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_model(**kwargs))
    return path


def write_int8_sibling(path: Path) -> Path:
    """Quantize the model at ``path`` with the exporter's own settings (``export.quantize_int8``, from the
    trainer) and write it, resealed, as the ``<stem>.int8.onnx`` sibling that the core runs on the CPU."""
    import onnx
    from kdsharp_train.export import quantize_int8

    fp32 = onnx.load(str(path))
    channels = fp32.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    rng = np.random.default_rng(0)
    crops = [rng.random((1, channels, 32, 32), dtype=np.float32) for _ in range(4)]
    model = onnx.load_from_string(quantize_int8(path.read_bytes(), crops, path.parent))
    for entry in model.metadata_props:
        if entry.key == contract.KEY_SHA256:
            entry.value = contract.SHA256_PLACEHOLDER
    sibling = path.with_name(f"{path.stem}.int8.onnx")
    sibling.write_bytes(contract.seal(model.SerializeToString()))
    return sibling
