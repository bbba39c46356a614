"""Check the GPU path of the core on a CUDA machine, in one run (``bench/gpu_check.sh`` calls this).

What runs is read back from each session (``Sharpener.providers``), never assumed:

1. which execution providers really start (TensorRT, CUDA) for each shipped rung;
2. tiled equals untiled on the GPU (1080p frame, 512-px tiles, within one 8-bit level);
3. fp16 parity per rung where a ``.fp16.onnx`` sibling exists (max |Δ| of the sibling itself against fp32, on that provider);
4. frames per second at 1080p and 4K per rung and provider (uint8 RGB through ``Sharpener.sharpen``);
5. ``vspipe`` with ``num_streams=2`` when VapourSynth is installed.

On a machine where no CUDA session starts it prints one line saying so and exits 0.

Run::

    bash bench/gpu_check.sh [--frames 20] [--rungs fast,nokd]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kdsharp import RuntimeConfig, Sharpener, shipped

GPU = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
SIZES = {"1080p": (1080, 1920), "4k": (2160, 3840)}


def _frame(h: int, w: int) -> np.ndarray:
    return (np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8)


def _on(provider: str, model: str, **kw: object) -> Sharpener | None:
    """A sharpener that really runs on ``provider``, or None when it fell back."""
    sh = Sharpener(model, config=RuntimeConfig(providers=(provider, "CPUExecutionProvider"), **kw))  # type: ignore[arg-type]
    return sh if sh.providers and sh.providers[0] == provider else None


def _fps(sh: Sharpener, frame: np.ndarray, frames: int) -> float:
    sh.sharpen(frame)  # warm-up (TensorRT builds its engine here)
    times = []
    for _ in range(frames):
        t = time.perf_counter()
        sh.sharpen(frame)
        times.append(time.perf_counter() - t)
    return 1.0 / statistics.median(times)


def _fp16_parity(model: str, provider: str) -> str:
    path = shipped.shipped_path(model) if model in shipped.SHIPPED_MODELS else Path(model)
    sibling = path.with_name(path.name[: -len(".onnx")] + ".fp16.onnx")
    if not sibling.exists():
        return "no .fp16.onnx sibling"
    x = (np.random.default_rng(1).random((256, 384, 3))).astype(np.float32)
    a = _on(provider, model, fp16=False)
    b = _on(provider, str(sibling))  # the sibling itself: float16 on this provider (on the CPU too)
    if a is None or b is None:
        return "did not start"
    return f"Δ {float(np.abs(a.sharpen(x) - b.sharpen(x)).max()):.2e}"  # no "|": a table cell


def _vspipe(frames: int) -> str:
    vspipe = shutil.which("vspipe")
    try:
        import vapoursynth  # noqa: F401
    except ImportError:
        return "VapourSynth not installed: vspipe check skipped"
    if vspipe is None:
        return "vspipe not found: vspipe check skipped"
    script = (
        "import vapoursynth as vs\nfrom kdsharp_vs import sharpen\ncore = vs.core\n"
        f"clip = core.std.BlankClip(width=1920, height=1080, format=vs.YUV420P8, length={frames}, color=[90, 120, 140])\n"
        "clip = core.std.AddBorders(clip.std.Crop(left=8), left=8, color=[200, 128, 128])\n"
        "sharpen(clip, num_streams=2, providers=('CUDAExecutionProvider',)).set_output()\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        vpy = Path(tmp) / "check.vpy"
        vpy.write_text(script)
        t = time.perf_counter()
        run = subprocess.run([vspipe, str(vpy), "--"], capture_output=True, text=True, timeout=300)
        dt = time.perf_counter() - t
    if run.returncode != 0:
        return f"vspipe failed: {run.stderr.strip().splitlines()[-1:]}"
    return f"vspipe num_streams=2, 1080p YUV420P8: {frames / dt:.1f} fps ({frames} frames, {dt:.1f} s with start-up)"


def main(argv: list[str] | None = None) -> int:
    """Run the checks; returns the exit status (0 also when there is no GPU)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--rungs", default=",".join(shipped.SHIPPED_MODELS), help="comma list of shipped names or .onnx paths")
    p.add_argument("--on-cpu", action="store_true", help="run every check on the CPU instead (tests this script)")
    args = p.parse_args(argv)
    rungs = [r for r in args.rungs.split(",") if r]
    providers = ("CPUExecutionProvider",) if args.on_cpu else GPU
    started = {prov: _on(prov, rungs[0]) is not None for prov in providers}
    if not any(started.values()):
        import onnxruntime

        print(f"gpu_check: no CUDA or TensorRT session starts here (onnxruntime {onnxruntime.__version__}, "
              f"providers {', '.join(onnxruntime.get_available_providers())}): nothing to check on a GPU")
        return 0
    print("providers that start:", ", ".join(p for p, ok in started.items() if ok))
    failed = False
    print("| rung | provider | tiled = untiled (max |Δ|, 8-bit levels) | fp16 parity | 1080p fps | 4K fps |")
    print("| --- | --- | ---: | --- | ---: | ---: |")
    for rung in rungs:
        for prov in (p for p, ok in started.items() if ok):
            whole = _on(prov, rung, tile=0)
            tiled = _on(prov, rung, tile=512)
            if whole is None or tiled is None:
                print(f"| {rung} | {prov} | did not start | | | |")
                continue
            frame = _frame(*SIZES["1080p"])
            diff = int(np.abs(whole.sharpen(frame).astype(int) - tiled.sharpen(frame).astype(int)).max())
            failed |= diff > 1
            fps = {k: _fps(whole, _frame(*hw), args.frames) for k, hw in SIZES.items()}
            print(f"| {rung} | {prov} | {diff} | {_fp16_parity(rung, prov)} | {fps['1080p']:.1f} | {fps['4k']:.1f} |")
    print(_vspipe(max(60, args.frames)))
    if failed:
        print("gpu_check: tiled output differs from untiled by more than one level", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
