"""Teacher sizes on this CPU: parameters, GFLOP per 1080p frame, and training seconds per step.

Run::

    .venv/bin/python bench/teacher_throughput.py [--threads 1] [--batch 8] [--crop 128] [--steps 3] [--bf16]

Times a full AdamW step (forward, L1 loss, backward, update) on a
random batch for the default NAFNet teacher and a few alternatives, so the
teacher size can be chosen for CPU throughput and capacity. Other processes on
the machine inflate the times: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from kdsharp_train.models import build_model, count_params, gflops_1080p

CANDIDATES: list[tuple[str, dict]] = [
    ("nafnet", {}),  # the default
    ("nafnet", {"width": 16, "enc_blocks": [2, 2, 4, 8], "middle_blocks": 8, "dec_blocks": [2, 2, 2, 2]}),
    ("nafnet", {"width": 32, "enc_blocks": [1, 1, 2, 4], "middle_blocks": 4, "dec_blocks": [1, 1, 1, 1]}),
    ("edsr", {}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast + channels-last, as --precision bf16")
    ns = ap.parse_args()
    torch.set_num_threads(ns.threads)
    print(f"load average {os.getloadavg()[0]:.2f}; {ns.threads} torch threads; batch {ns.batch}×{ns.crop}²")
    print("| teacher | args | params (M) | GFLOP/1080p | s/step |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, args in CANDIDATES:
        net = build_model("teacher", name, args)
        g = gflops_1080p(net, 128)
        opt = torch.optim.AdamW(net.parameters(), 1e-3)
        x = torch.rand(ns.batch, 3, ns.crop, ns.crop)
        if ns.bf16:
            net = net.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        times = []
        for _ in range(ns.steps + 1):
            t = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=ns.bf16):
                out = net(x)
            loss = (out.float() - x).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t)
        print(f"| {name} | {net.arch_args} | {count_params(net) / 1e6:.2f} | {g:.0f} | {min(times[1:]):.2f} |", flush=True)


if __name__ == "__main__":
    main()
