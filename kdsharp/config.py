"""Runtime configuration of the core."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROVIDERS = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "CPUExecutionProvider",
)


@dataclass(frozen=True)
class RuntimeConfig:
    """How the core runs a model. Immutable; build a new one to change it.

    Attributes:
        providers: onnxruntime execution providers in order of preference.
            Ones this onnxruntime build lacks are skipped; ones that fail to
            start (CUDA on a machine without a GPU) fall back to the next.
            What really runs is ``Sharpener.providers``.
        threads: CPU intra-op threads. ``None`` reads ``OMP_NUM_THREADS`` and
            otherwise lets onnxruntime use one per physical core.
        tile: largest tile side in pixels fed to the network at once; images
            larger than this are processed in overlapping tiles. ``0`` never tiles.
        overlap: context pixels added on each side of a tile; ``None`` uses the
            model's receptive radius (rounded up to its size multiple), which
            makes tiled output equal to untiled output.
        fp16: on CUDA/TensorRT, use the model's ``.fp16.onnx`` sibling when one
            exists. Never used on the CPU, where fp16 is slower.
        int8: on the CPU, use the model's ``.int8.onnx`` sibling when one exists
            (static int8: shipped only where it is measured faster, ``quality``:
            1.75× on this project's 2 cores, within 55 dB PSNR of float32). Never
            used on CUDA/TensorRT.
        conversion_threads: threads for the uint8/uint16 <-> float conversions
            around the network on large windows. ``None`` uses the CPU thread
            count; ``1`` keeps them on the calling thread.
        spin: let onnxruntime's CPU threads busy-wait between operators. Fastest
            for one stream alone; switch it off in pipelines (webcam, video
            decoding) where other threads need the cores between frames.
        io_binding: bind input/output buffers (device buffers on CUDA) rather
            than letting ``run`` allocate for every call.
        trt_cache_dir: where TensorRT keeps built engines.
        verbose: show onnxruntime's own log lines (provider fallback and so on).
    """

    providers: tuple[str, ...] = DEFAULT_PROVIDERS
    threads: int | None = None
    tile: int = 2048
    overlap: int | None = None
    fp16: bool = True
    int8: bool = True
    conversion_threads: int | None = None
    spin: bool = True
    io_binding: bool = True
    trt_cache_dir: Path | None = None
    verbose: bool = False

    def intra_op_threads(self) -> int:
        """Thread count handed to onnxruntime (0 lets it decide)."""
        if self.threads is not None:
            return max(0, int(self.threads))
        env = os.environ.get("OMP_NUM_THREADS", "").strip()
        if env.isdigit() and int(env) > 0:
            return int(env)
        return 0
