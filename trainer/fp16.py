"""A float16 sibling of a shipped kdsharp ONNX model, made from the model file itself.

``kdsharp-train export --fp16`` writes a sibling from the trainer's checkpoint; a model
shipped without one (its checkpoint gone) gets it here: every float32 initializer and
constant becomes float16, the graph's input and output become float16, the metadata is
kept and the file sealed again. The parity with the float32 model is measured on the CPU
(uniform 0–1 noise at three aligned sizes) and written into the sibling's metrics; above
``tolerance`` nothing is written.

Run::

    kdsharp-train fp16 weights/kdsharp-fast.onnx     # -> weights/kdsharp-fast.fp16.onnx, SHA256SUMS
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from kdsharp import contract
from kdsharp_train import atomic
from google.protobuf.message import DecodeError
from onnx import TensorProto, numpy_helper

from .export import ExportError, _session, update_sums

#: Largest |fp16 − fp32| accepted, in 0–1 units (half an 8-bit level is 0.002; fp16 itself rounds to ~5e-4).
TOLERANCE = 2e-3


def _half_tensor(t: onnx.TensorProto) -> onnx.TensorProto:
    return numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)


def to_float16(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` computing in float16 (initializers, constants, graph IO and value types)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    for i, init in enumerate(g.initializer):
        if init.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(_half_tensor(init))
    for node in g.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == TensorProto.FLOAT:
                attr.t.CopyFrom(_half_tensor(attr.t))
    for vi in (*g.input, *g.output, *g.value_info):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT16
    return m


def fp16_sibling(path: Path, tolerance: float = TOLERANCE) -> str:
    """Write ``<stem>.fp16.onnx`` beside the float32 model ``path``; return one line (path, parity, size).

    Raises:
        ExportError: not an ONNX file, not a float32 kdsharp model, or parity above ``tolerance``.
    """
    try:
        model = onnx.load(str(path))
    except DecodeError:
        raise ExportError(f"{path}: not an ONNX model (it does not parse)") from None
    meta = {p.key: p.value for p in model.metadata_props}
    if contract.KEY_SHA256 not in meta or model.graph.input[0].type.tensor_type.elem_type != TensorProto.FLOAT:
        raise ExportError(f"{path}: not a float32 kdsharp model")
    half = to_float16(model)
    channels = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value or 3
    multiple = int(meta[contract.KEY_SIZE_MULTIPLE])
    rng = np.random.default_rng(0)
    full, small = _session(model.SerializeToString()), _session(half.SerializeToString())
    worst = 0.0
    for h, w in ((8, 8), (5, 11), (16, 6)):
        x = rng.random((1, channels, h * multiple, w * multiple), dtype=np.float32)
        ref = full.run([contract.OUTPUT_NAME], {contract.INPUT_NAME: x})[0]
        got = small.run([contract.OUTPUT_NAME], {contract.INPUT_NAME: x.astype(np.float16)})[0].astype(np.float32)
        worst = max(worst, float(np.abs(got - ref).max()))
    if worst > tolerance:
        raise ExportError(f"{path}: float16 parity {worst:.2e} exceeds {tolerance:.0e}")
    metrics = json.loads(meta.get(contract.KEY_METRICS, "{}"))
    metrics["fp16_parity_max_abs"] = round(worst, 6)
    meta.update({contract.KEY_METRICS: json.dumps(metrics, sort_keys=True), contract.KEY_SHA256: contract.SHA256_PLACEHOLDER})
    del half.metadata_props[:]
    for key, value in meta.items():
        half.metadata_props.add(key=key, value=value)
    data = contract.seal(half.SerializeToString())
    out = path.with_name(path.name.removesuffix(".onnx") + ".fp16.onnx")
    atomic.write_bytes(out, data)
    sums = update_sums(out)
    listed = f", listed in {sums}" if sums else ""
    return f"{out}: float16, parity max |Δ| {worst:.2e} against {path.name}, {len(data) / 1024:.1f} KiB{listed}"
