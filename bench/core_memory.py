"""Peak memory of the core on a large photo (the goal: a 24 MP photo in under 1 GB RSS).

Run:  .venv/bin/python bench/core_memory.py [--model PATH] [--megapixels 24] [--tile 2048]

Prints the peak resident set size of this process before and after
sharpening an uint8 RGB image of the given size, and for uint16.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from kdsharp import KdsharpError, RuntimeConfig, Sharpener


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or .onnx path (default: shipped default)")
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--tile", type=int, default=RuntimeConfig().tile)
    parser.add_argument("--dtype", choices=("uint8", "uint16"), default="uint8")
    args = parser.parse_args(argv)
    width = int(round((args.megapixels * 1e6 * 3 / 2) ** 0.5))
    height = int(round(width * 2 / 3))
    try:
        sharpener = Sharpener(args.model, config=RuntimeConfig(tile=args.tile))
    except KdsharpError as exc:
        print(f"core_memory: {exc}", file=sys.stderr)
        return 1
    full = 255 if args.dtype == "uint8" else 65535
    rng = np.random.default_rng(0)
    image = rng.integers(0, full + 1, size=(height, width, 3), dtype=args.dtype)
    before = peak_rss_mib()
    start = time.perf_counter()
    sharpener.sharpen(image)
    seconds = time.perf_counter() - start
    after = peak_rss_mib()
    print("| image | dtype | tile | peak RSS before | peak RSS after | time |")
    print("|---|---|---|---|---|---|")
    print(f"| {width}×{height} ({width * height / 1e6:.1f} MP) | {args.dtype} | {args.tile} | {before:.0f} MiB | {after:.0f} MiB | {seconds:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
