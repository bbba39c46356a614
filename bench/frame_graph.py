"""Issue 15's "time outside the network" lever: the conversions inside the ONNX graph instead of the core.

Run::

    .venv/bin/python bench/frame_graph.py --model weights/kdsharp-fast.onnx [--size 1920x1080] \
        [--threads 2] [--repeats 15] [--profile]

It wraps a kdsharp model in one graph that takes a frame as the core gets it from VapourSynth or a
decoder, uint8 planes ``1×3×H×W``, and returns the sharpened uint8 planes: the cast to float, the
BT.601 luma (a luma model) as a 1×1 conv, the core's reflect margin (``Pad``), the network, the
change cropped back, added to R, G and B, rounded, clipped and cast back. Then it times, on the same
frame and threads, that graph against the core (``Sharpener.sharpen_planes`` on the planes and
``Sharpener.sharpen`` on the H×W×3 frame) and the bare network, and prints how far the graph's pixels
are from the core's (levels). ``--profile`` adds onnxruntime's time per operator type of the graph.
Nothing is written outside a temporary folder; the core never loads this graph.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from timing import median_ms

from kdsharp import KdsharpError, RuntimeConfig, Sharpener
from kdsharp.pixels import LUMA_WEIGHTS
from kdsharp.tiling import plan


def frame_graph(model: onnx.ModelProto, margin: int) -> onnx.ModelProto:
    """``model`` (kdsharp contract, float32, input ``input``, output ``output``) inside a uint8-planes graph.

    Input ``frame`` and output ``sharpened``: uint8 ``1×3×H×W``; H and W must be multiples of the model's size
    multiple. The network sees the frame reflect-padded by ``margin`` on each side, as in the core.
    """
    net = onnx.ModelProto()
    net.CopyFrom(model)
    g = net.graph
    for node in g.node:
        node.input[:] = [f"net/{name}" if name else name for name in node.input]
        node.output[:] = [f"net/{name}" for name in node.output]
    for init in g.initializer:
        init.name = f"net/{init.name}"
    channels = g.input[0].type.tensor_type.shape.dim[1].dim_value
    if channels == 1:  # the luma of R, G, B as a 1×1 conv, in 0–1
        to_net = [helper.make_node("Conv", ["levels", "luma_weights"], ["unpadded"])]
        weights = [numpy_helper.from_array((LUMA_WEIGHTS / 255).astype(np.float32).reshape(1, 3, 1, 1), "luma_weights")]
    else:
        to_net = [helper.make_node("Mul", ["levels", "to_unit"], ["unpadded"])]
        weights = [numpy_helper.from_array(np.array(1 / 255, np.float32), "to_unit")]
    m = margin
    nodes = [
        helper.make_node("Cast", ["frame"], ["levels"], to=TensorProto.FLOAT),
        *to_net,
        helper.make_node("Pad", ["unpadded", "pads"], ["net/input"], mode="reflect"),
        *g.node,
        helper.make_node("Sub", ["net/output", "net/input"], ["change_padded"]),
        helper.make_node("Slice", ["change_padded", "starts", "ends", "axes"], ["change"]),
        helper.make_node("Mul", ["change", "to_levels"], ["change_levels"]),
        helper.make_node("Add", ["levels", "change_levels"], ["sum"]),  # a luma change broadcasts to R, G, B
        helper.make_node("Round", ["sum"], ["rounded"]),
        helper.make_node("Clip", ["rounded", "zero", "full"], ["clipped"]),
        helper.make_node("Cast", ["clipped"], ["sharpened"], to=TensorProto.UINT8),
    ]
    constants = [
        numpy_helper.from_array(np.array([0, 0, m, m, 0, 0, m, m], np.int64), "pads"),
        numpy_helper.from_array(np.array([m, m], np.int64), "starts"),
        numpy_helper.from_array(np.array([-m, -m], np.int64), "ends"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
        numpy_helper.from_array(np.array(255, np.float32), "to_levels"),
        numpy_helper.from_array(np.array(0, np.float32), "zero"),
        numpy_helper.from_array(np.array(255, np.float32), "full"),
    ]
    planes = ["batch", 3, "height", "width"]
    graph = helper.make_graph(
        nodes, "kdsharp_frame", [helper.make_tensor_value_info("frame", TensorProto.UINT8, planes)],
        [helper.make_tensor_value_info("sharpened", TensorProto.UINT8, planes)],
        [*g.initializer, *weights, *constants],
    )
    wrapped = helper.make_model(graph, opset_imports=net.opset_import, ir_version=net.ir_version)
    onnx.checker.check_model(wrapped)
    return wrapped


def frame_size(text: str) -> tuple[int, int]:
    """``WxH`` → ``(W, H)``, both whole numbers ≥ 1 (argparse type)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WxH, e.g. 1920x1080") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: both sides must be at least 1")
    return w, h


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", type=frame_size, default="1920x1080", help="W×H of the frame")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--profile", action="store_true")
    ns = ap.parse_args()
    w, h = ns.size
    try:
        sharpener = Sharpener(ns.model, config=RuntimeConfig(providers=("CPUExecutionProvider",), threads=ns.threads,
                                                             int8=False))
    except KdsharpError as e:
        print(f"frame_graph: {e}", file=sys.stderr)
        return 2
    if h % sharpener.info.size_multiple or w % sharpener.info.size_multiple:
        print(f"frame_graph: {w}x{h} is not a multiple of the model's {sharpener.info.size_multiple}", file=sys.stderr)
        return 2
    margin = plan(h, w, tile=0, overlap=sharpener.overlap, multiple=sharpener.info.size_multiple).margin
    if min(w, h) <= margin:  # ONNX's reflect Pad needs more pixels than it mirrors
        print(f"frame_graph: {w}x{h} is too small for the {margin}-px reflect margin; use a side above {margin}",
              file=sys.stderr)
        return 2
    wrapped = frame_graph(onnx.load(ns.model), margin).SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = ns.threads
    graph = ort.InferenceSession(wrapped, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 256, (3, h // 8 + 1, w // 8 + 1)), np.ones((1, 8, 8)))[:, :h, :w]
    frame = np.ascontiguousarray((smooth * 0.7 + rng.integers(0, 77, (3, h, w))).astype(np.uint8)[None])
    planes = [frame[0, k] for k in range(3)]
    hwc = np.ascontiguousarray(frame[0].transpose(1, 2, 0))
    got = graph.run(None, {"frame": frame})[0][0]
    want = np.stack(sharpener.sharpen_planes(planes))
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    batch = np.zeros((1, sharpener.info.channels, h, w), np.float32)
    print(f"load average {os.getloadavg()[0]:.2f}; {ns.model}; {w}x{h} uint8; {ns.threads} threads; margin {margin}")
    print("| path | ms per frame (median) |")
    print("| --- | ---: |")
    for name, fn in (("the network alone (float32 input)", lambda: sharpener.run_network(batch)),
                     ("conversions in the graph (uint8 planes in and out)", lambda: graph.run(None, {"frame": frame})),
                     ("the core, uint8 planes (sharpen_planes)", lambda: sharpener.sharpen_planes(planes)),
                     ("the core, H×W×3 uint8 (sharpen)", lambda: sharpener.sharpen(hwc))):
        print(f"| {name} | {median_ms(fn, ns.repeats):.2f} |")
    print(f"graph vs core: max {int(diff.max())} levels, {float((diff > 0).mean()):.2e} of samples differ")
    if ns.profile:
        with tempfile.TemporaryDirectory() as tmp:
            options.enable_profiling = True
            options.profile_file_prefix = os.path.join(tmp, "frame")
            profiled = ort.InferenceSession(wrapped, options, providers=["CPUExecutionProvider"])
            for _ in range(ns.repeats):
                profiled.run(None, {"frame": frame})
            with open(profiled.end_profiling()) as f:
                events = json.load(f)
        per_op: collections.Counter[str] = collections.Counter()
        for e in events:
            if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
                per_op[e["args"]["op_name"]] += e["dur"]
        print("| graph operator | ms per frame |")
        print("| --- | ---: |")
        for op, us in per_op.most_common():
            print(f"| {op} | {us / ns.repeats / 1000:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
