"""Students' cost on this machine: params, GFLOP per 1080p frame, and onnxruntime time.

Run::

    .venv/bin/python bench/student_speed.py [--threads 2] [--repeats 20] [--arch fast --args '{"in_channels":1}']

For every student (default arguments, random weights; speed does not depend on
the values) it exports a kdsharp ONNX model to a temporary folder and times:
the bare network on a 1×C×1080×1920 float32 tensor through onnxruntime, and the
kdsharp core end to end (``Sharpener.sharpen`` on a 1080×1920×3 uint8 frame).
It also prints the default teacher's GFLOP and the teacher ÷ student ratio
(issue 4 needs ≥ 50). The goal for ``fast`` is ≤ 33 ms end to end at 1080p.
Other processes on the machine inflate the times: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from kdsharp_train.checkpoint import save_checkpoint
from kdsharp_train.export import ExportConfig, export_checkpoint
from kdsharp_train.models import arch_of, build_model, count_params, gflops_1080p
from kdsharp_train.students import STUDENTS

from timing import median_ms

from kdsharp import RuntimeConfig, Sharpener


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--arch", nargs="*", default=list(STUDENTS))
    ap.add_argument("--args", default="{}", help="JSON constructor args applied to every --arch")
    ns = ap.parse_args()
    torch.set_num_threads(1)
    teacher_g = gflops_1080p(build_model("teacher", "nafnet"), 128)
    print(f"load average {os.getloadavg()[0]:.2f}; teacher nafnet {teacher_g:.0f} GFLOP/1080p; {ns.threads} ORT threads")
    print("| student | args | params | GFLOP/1080p | teacher÷student | network ms (1080p) | core ms (1080p uint8) | core ms (720p uint8) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    extra = json.loads(ns.args)
    cfg = RuntimeConfig(providers=("CPUExecutionProvider",), threads=ns.threads)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ns.arch:
            net = build_model("student", name, extra).eval()
            with torch.no_grad():
                for p in net.parameters():
                    p.normal_(0, 0.02)
            ck = save_checkpoint(Path(tmp) / name, "best", {f"model.{k}": v for k, v in net.state_dict().items()},
                                 {"step": 0, "arch": arch_of(net, "student"), "config": {}})
            onnx_path = Path(tmp) / f"{name}.onnx"
            export_checkpoint(ExportConfig(checkpoint=str(ck), out=str(onnx_path)))
            sh = Sharpener(onnx_path, config=cfg)
            c = net.in_channels
            m = net.size_multiple
            h = (1080 + m - 1) // m * m
            x = np.random.default_rng(0).random((1, c, h, 1920), dtype=np.float32)
            net_ms = median_ms(lambda: sh.run_network(x), ns.repeats, warmup=3)
            f1080 = (np.random.default_rng(1).random((1080, 1920, 3)) * 255).astype(np.uint8)
            f720 = f1080[:720, :1280].copy()
            core_ms = median_ms(lambda: sh.sharpen(f1080), ns.repeats, warmup=3)
            core720 = median_ms(lambda: sh.sharpen(f720), ns.repeats, warmup=3)
            g = gflops_1080p(net, 128)
            print(f"| {name} | {json.dumps(net.arch_args)} | {count_params(net)} | {g:.2f} | {teacher_g / g:.0f} | "
                  f"{net_ms:.1f} | {core_ms:.1f} | {core720:.1f} |", flush=True)


if __name__ == "__main__":
    main()
