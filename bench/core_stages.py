"""Where the core's time goes around the network, per stage, on one frame.

Run::

    .venv/bin/python bench/core_stages.py [--model fast] [--size 1080p] [--threads 2] [--repeats 20]

Times ``Sharpener.sharpen`` on a random uint8 RGB frame end to end, and the median
of each stage inside it: the reflect padding of the planes, the conversion into the
network's input (``_fill``), the network (``_Runner.run``) and the way back (the luma
change added to R, G, B, or the blend and quantisation). What is not the network is
what issue 15 calls the time outside the network. Other processes inflate every
figure: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from kdsharp import RuntimeConfig, Sharpener, sharpener, tiling

SIZES = {"720p": (720, 1280), "1080p": (1080, 1920), "4k": (2160, 3840)}


def _timed(store: dict[str, list[float]], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            store[name].append((time.perf_counter() - t) * 1000.0)

    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="fast")
    ap.add_argument("--size", default="1080p", choices=sorted(SIZES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    ns = ap.parse_args()
    sh = Sharpener(ns.model, config=RuntimeConfig(providers=("CPUExecutionProvider",), threads=ns.threads))
    frame = (np.random.default_rng(0).random((*SIZES[ns.size], 3)) * 255).astype(np.uint8)
    store: dict[str, list[float]] = defaultdict(list)
    tiling.pad = _timed(store, "pad", tiling.pad)  # type: ignore[assignment]
    sh._fill = _timed(store, "fill", sh._fill)  # type: ignore[method-assign]
    sh._runner.run = _timed(store, "network", sh._runner.run)  # type: ignore[method-assign]
    sh._add_luma_change = _timed(store, "luma change", sh._add_luma_change)  # type: ignore[method-assign]
    sh._blend = _timed(store, "blend", sh._blend)  # type: ignore[method-assign]
    sharpener.pixels.quantize = _timed(store, "quantize", sharpener.pixels.quantize)  # type: ignore[assignment]
    for _ in range(3):
        sh.sharpen(frame)
    store.clear()
    total = []
    for _ in range(ns.repeats):
        t = time.perf_counter()
        sh.sharpen(frame)
        total.append((time.perf_counter() - t) * 1000.0)
    per_call = {k: sum(v) / ns.repeats for k, v in store.items()}
    print(f"load average {os.getloadavg()[0]:.2f}; {ns.model} at {ns.size}, {ns.threads} threads, {ns.repeats} runs")
    print(f"end to end: median {statistics.median(total):.1f} ms, min {min(total):.1f} ms")
    for k, v in per_call.items():
        print(f"  {k:12s} {v:6.1f} ms per frame (summed over bands)")
    outside = statistics.median(total) - per_call.get("network", 0.0)
    print(f"  outside the network: {outside:.1f} ms")


if __name__ == "__main__":
    main()
