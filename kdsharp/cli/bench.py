"""``kdsharp bench``: time every rung of the ladder through the core against OpenCV's unsharp mask.

Without ``--model`` it times each installed rung (fast, quality, max), else the one
named. For each size it times, in the same run and on the same machine:

* **network**: the bare onnxruntime session (``Sharpener.session``) on a
  preallocated ``1×C×H×W`` float input and output bound once (IO binding),
  sizes rounded up to the model's multiple;
* **end to end**: ``Sharpener.sharpen`` on ``H×W×3`` uint8 in and out
  (conversion, padding, tiling, strength blend);
* **unsharp**: ``cv2.addWeighted(img, 1 + a, cv2.GaussianBlur(img, sigma), -a)``
  on the same uint8 image, the classical baseline.

Each figure is the median of ``--repeat`` runs after one warm-up run; a model
slower than ``SLOW_SECONDS`` a frame (the teacher on a CPU) is timed fewer times,
at least once, so the whole table stays minutes rather than hours.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import numpy as np

from kdsharp.cli import runtime
from kdsharp.cli.problems import UsageProblem, import_extra
from kdsharp.tiling import round_up

#: Named sizes accepted by ``--sizes`` (width, height).
NAMED_SIZES: dict[str, tuple[int, int]] = {
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "1440p": (2560, 1440),
    "4k": (3840, 2160),
}
DEFAULT_SIZES = "720p,1080p,4k"
#: Above this many seconds a run, a figure is the median of fewer runs (about this long in all).
SLOW_SECONDS = 2.0


@dataclass(frozen=True)
class Row:
    """Median timings in milliseconds for one frame size."""

    width: int
    height: int
    network_ms: float
    end_to_end_ms: float
    unsharp_ms: float


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``720p,1080p,4k`` or ``64x48,...`` -> list of (width, height)."""
    sizes = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        if part in NAMED_SIZES:
            sizes.append(NAMED_SIZES[part])
            continue
        match = re.fullmatch(r"(\d+)x(\d+)", part)
        if not match or int(match[1]) < 1 or int(match[2]) < 1:
            names = ", ".join(NAMED_SIZES)
            raise argparse.ArgumentTypeError(f"bad size {part!r}: use WIDTHxHEIGHT or one of {names}")
        sizes.append((int(match[1]), int(match[2])))
    if not sizes:
        raise argparse.ArgumentTypeError("give at least one size")
    return sizes


def add_parser(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Register the ``bench`` command."""
    p = commands.add_parser(
        "bench",
        parents=parents,
        help="time the model (network alone and end to end) against OpenCV's unsharp mask",
        description="Time the student through the core at several frame sizes and compare with OpenCV's unsharp mask.",
    )
    p.add_argument(
        "--sizes", type=parse_sizes, default=parse_sizes(DEFAULT_SIZES), help=f"comma-separated sizes (default: {DEFAULT_SIZES})"
    )
    p.add_argument("--repeat", type=runtime.positive_int, default=10, help="timed runs per figure, after one warm-up (default: 10)")
    runtime.add_runtime_options(p)
    p.set_defaults(run=run)


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeat`` runs, after one warm-up.

    A warm-up slower than ``SLOW_SECONDS`` cuts the runs to about ``SLOW_SECONDS`` in all (at least one).
    """
    start = time.perf_counter()
    fn()
    warm = time.perf_counter() - start
    if warm > SLOW_SECONDS:
        repeat = max(1, min(repeat, round(SLOW_SECONDS / warm)))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def network_call(sharpener: Any, batch: np.ndarray) -> Callable[[], Any]:
    """A call that runs only the network on ``batch`` with input and output bound once.

    On the CPU both buffers are preallocated numpy arrays; on CUDA/TensorRT they
    are device buffers, so the figure is the network without host transfers.
    """
    session = sharpener.session
    binding = session.io_binding()
    keep: list[Any] = [batch]  # the bound buffers must outlive every call
    if any(p in ("CUDAExecutionProvider", "TensorrtExecutionProvider") for p in sharpener.providers):
        from onnxruntime import OrtValue

        device_in = OrtValue.ortvalue_from_numpy(batch, "cuda", 0)
        device_out = OrtValue.ortvalue_from_shape_and_type(batch.shape, batch.dtype, "cuda", 0)
        binding.bind_ortvalue_input("input", device_in)
        binding.bind_ortvalue_output("output", device_out)
        keep += [device_in, device_out]
    else:
        output = np.empty_like(batch)
        binding.bind_cpu_input("input", batch)
        binding.bind_output("output", "cpu", 0, batch.dtype, list(batch.shape), output.ctypes.data)
        keep.append(output)

    def run() -> list[Any]:
        session.run_with_iobinding(binding)
        return keep

    return run


def measure(sharpener: Any, cv2: Any, width: int, height: int, repeat: int) -> Row:
    """Time the three paths at one size."""
    info = sharpener.info
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    m = info.size_multiple
    dtype = np.float16 if info.dtype == "float16" else np.float32
    batch = rng.random((1, info.channels, round_up(height, m), round_up(width, m)), dtype=np.float32).astype(dtype)
    network = median_ms(network_call(sharpener, batch), repeat)
    end_to_end = median_ms(lambda: sharpener.sharpen(image), repeat)

    def unsharp() -> np.ndarray:
        blur = cv2.GaussianBlur(image, (0, 0), 2.0)
        return cv2.addWeighted(image, 1.5, blur, -0.5, 0)

    return Row(width, height, network, end_to_end, median_ms(unsharp, repeat))


def format_table(rows: list[Row]) -> str:
    """A fixed-width table with ms, fps and ratios (end to end / network, end to end / unsharp)."""
    header = (
        f"{'size':>11} | {'network ms':>10} {'fps':>7} | {'end-to-end ms':>13} {'fps':>7} | "
        f"{'unsharp ms':>10} {'fps':>7} | {'e2e/net':>7} {'e2e/unsharp':>11}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{f'{r.width}x{r.height}':>11} | {r.network_ms:10.2f} {1000 / r.network_ms:7.1f} | "
            f"{r.end_to_end_ms:13.2f} {1000 / r.end_to_end_ms:7.1f} | {r.unsharp_ms:10.2f} {1000 / r.unsharp_ms:7.1f} | "
            f"{r.end_to_end_ms / r.network_ms:7.2f} {r.end_to_end_ms / r.unsharp_ms:11.1f}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Load each model (every installed rung, or ``--model``), time every size and print its table."""
    from kdsharp import ladder
    from kdsharp.sharpener import Sharpener

    cv2 = import_extra("cv2", "bench", "kdsharp bench (the OpenCV unsharp-mask baseline)")
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    if not args.sizes:
        raise UsageProblem("no sizes to time")
    models = [args.model] if args.model is not None else list(ladder.installed_rungs())
    for n, model in enumerate(models):
        sharpener = Sharpener(ladder.stills_model(model), config=runtime.runtime_config(args))
        rung = f"rung {model}: " if args.model is None else ""
        if n:
            print()  # a blank line between the rungs' tables
        print(
            f"kdsharp bench: {rung}model {sharpener.weights_path.name} ({sharpener.info.architecture}), "
            f"providers {', '.join(sharpener.providers)}, threads {args.threads or 'default'}, "
            f"tile {args.tile}, median of {args.repeat} runs (fewer above {SLOW_SECONDS:g} s a run)",
            flush=True,
        )
        rows = [measure(sharpener, cv2, width, height, args.repeat) for width, height in args.sizes]
        print(format_table(rows), flush=True)
    return 0
