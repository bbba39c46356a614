"""Throughput of ``kdsharp_vs.sharpen`` through ``vspipe`` against the core alone.

    .venv-vs/bin/python bench/vapoursynth_throughput.py     # shipped "fast" model, or a tiny test model if none
    .venv-vs/bin/python bench/vapoursynth_throughput.py --model my.onnx --frames 100 --resolutions 1080p
    .venv-vs/bin/python bench/vapoursynth_throughput.py --formats RGB24,YUV420P10 --num-streams 2
    .venv-vs/bin/python bench/vapoursynth_throughput.py --threads 1   # on a machine shared with other jobs

For each resolution and clip format it measures:

* core fps: ``Sharpener.sharpen`` alone, frame after frame, on exactly the
  array the filter hands the core for that format (H×W×3 for RGB, the luma
  plane for YUV in the default ``mode="luma"``), already in memory;
* vspipe fps: ``vspipe`` running a script whose source is a real photo
  (``skimage.data.coffee``) held in VapourSynth's cache, through
  ``kdsharp_vs.sharpen``, all frames requested (``vspipe script.vpy --``), as
  vspipe itself reports it. Model loading, script evaluation and a warm-up
  (every worker thread's first call) are excluded, as the core's first call
  is excluded from its side;
* ratio vspipe/core: the goal is >= 0.90.

Run from ``.venv-vs`` (``scripts/setup_vs_venv.sh``). Both sides use the same
model and onnxruntime defaults. The two are measured alternately
``--rounds`` times and the best of each is kept, so a busy neighbour on a
shared machine slows single rounds rather than one side of the ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import vapoursynth as vs
from PIL import Image

from kdsharp import ModelError, RuntimeConfig, Sharpener
from kdsharp_vs.formats import codec_for, frame_full_range

ROOT = Path(__file__).resolve().parents[1]
RESOLUTIONS = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
VSPIPE = Path(sys.executable).with_name("vspipe")

SCRIPT = """
import vapoursynth as vs
import kdsharp_vs
from kdsharp_bench_source import source

# Warm-up frames after the measured ones, requested at once while the script is
# evaluated: every worker thread makes its first onnxruntime call (buffers and
# bindings, ~0.15 s each) before vspipe's clock starts, as the core's side does.
warm = 4 * vs.core.num_threads
clip = source({photo!r}, {fmt!r}, {frames} + warm)
clip = kdsharp_vs.sharpen(clip, 1.0, {model!r}, num_streams={streams}, threads={threads!r})
for request in [clip.get_frame_async(n) for n in range({frames}, {frames} + warm)]:
    request.result()
clip[:{frames}].set_output()
"""

SOURCE_MODULE = '''
import numpy as np
import vapoursynth as vs
from PIL import Image

core = vs.core


def source(photo, fmt, frames):
    """``frames`` copies of an RGB photo in format ``fmt`` (YUV/GRAY: BT.709, integers limited range); computed
    once, then cached."""
    rgb = np.asarray(Image.open(photo).convert("RGB"))
    blank = core.std.BlankClip(format=vs.RGB24, width=rgb.shape[1], height=rgb.shape[0], length=1)

    def paint(n, f):
        out = f.copy()
        for p in range(3):
            np.copyto(np.asarray(out[p]), rgb[:, :, p])
        return out

    clip = core.std.ModifyFrame(blank, blank, paint)
    fmt = core.get_video_format(getattr(vs, fmt))
    if fmt.color_family in (vs.YUV, vs.GRAY):
        limited = {"range_s": "limited"} if fmt.sample_type == vs.INTEGER else {}
        clip = core.resize.Spline36(clip, format=fmt.id, matrix_s="709", **limited)
    elif fmt.id != vs.RGB24:
        clip = core.resize.Point(clip, format=fmt.id)
    return core.std.Loop(clip, times=frames)  # frame 0 stays in VapourSynth's cache
'''


def write_photo(folder: Path, size: tuple[int, int]) -> Path:
    """A real photo (scikit-image's coffee) resized to ``size`` (width, height), saved as PNG."""
    from skimage import data

    path = folder / f"coffee_{size[0]}x{size[1]}.png"
    Image.fromarray(data.coffee()).resize(size, Image.Resampling.BICUBIC).save(path)
    return path


def core_input(folder: Path, photo: Path, fmt: str) -> tuple[list[np.ndarray], dict[str, Any]]:
    """What the filter hands the core for the photo's first frame in ``fmt``: its planes, as they are, and
    the ``sharpen_planes`` keywords that say how to read them (depth and range)."""
    sys.path.insert(0, str(folder))
    from kdsharp_bench_source import source

    frame = source(str(photo), fmt, 1).get_frame(0)
    codec = codec_for(frame.format)
    full = frame_full_range(frame.props, codec.default_full_range)
    return [np.array(frame[p]) for p in codec.planes], codec.levels(full)


def core_fps(sharpener: Sharpener, image: tuple[list[np.ndarray], dict[str, Any]], frames: int) -> float:
    planes, levels = image
    sharpener.sharpen_planes(planes, **levels)  # warm-up: first-call allocations and bindings
    started = time.perf_counter()
    for _ in range(frames):
        sharpener.sharpen_planes(planes, **levels)
    return frames / (time.perf_counter() - started)


def vspipe_fps(
    folder: Path, photo: Path, fmt: str, frames: int, model: str, streams: int, threads: int | None
) -> float:
    script = folder / f"bench_{fmt}.vpy"
    script.write_text(
        SCRIPT.format(photo=str(photo), fmt=fmt, frames=frames, model=model, streams=streams, threads=threads)
    )
    run = subprocess.run(
        [str(VSPIPE), str(script), "--"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(folder)},
        timeout=3600,
    )
    if run.returncode != 0:
        raise SystemExit(f"vspipe failed:\n{run.stderr.strip()}")
    found = re.search(r"Output (\d+) frames in ([\d.]+) seconds", run.stderr)
    if not found:
        raise SystemExit(f"cannot read vspipe's timing from:\n{run.stderr.strip()}")
    return int(found.group(1)) / float(found.group(2))


def load_model(name: str | None, folder: Path) -> tuple[str, str]:
    """(model argument for both sides, label for the table)."""
    if name not in (None, "tiny"):
        return name, name
    if name is None:
        try:
            return str(Sharpener(config=RuntimeConfig()).model_path), "fast (shipped)"
        except ModelError as exc:
            print(f"note: {exc}; using a tiny random test model instead", file=sys.stderr)
    sys.path.insert(0, str(ROOT / "tests" / "support"))
    from onnx_models import write_model

    return str(write_model(folder / "tiny.onnx")), "tiny random test model (tests/support/onnx_models.py)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="shipped name or .onnx path; 'tiny' for the test model (default: shipped fast)")
    parser.add_argument("--frames", type=int, default=60, help="frames per measurement (default 60)")
    parser.add_argument("--resolutions", default="720p,1080p", help=f"comma list of {', '.join(RESOLUTIONS)}")
    parser.add_argument("--formats", default="RGB24,YUV420P8", help="comma list of VapourSynth format names")
    parser.add_argument("--num-streams", type=int, default=1, help="kdsharp_vs.sharpen num_streams (default 1)")
    parser.add_argument(
        "--threads", type=int, help="onnxruntime CPU threads on both sides (default: onnxruntime's choice)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurements, best kept (default 3)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kdsharp-vs-bench-") as tmp:
        folder = Path(tmp)
        (folder / "kdsharp_bench_source.py").write_text(SOURCE_MODULE)
        model, label = load_model(args.model, folder)
        sharpener = Sharpener(model, config=RuntimeConfig(threads=args.threads))
        release = vs.core.core_version.release_major
        print(
            f"model: {label}; providers: {', '.join(sharpener.providers)}; VapourSynth R{release}, "
            f"{vs.core.num_threads} threads; onnxruntime threads={args.threads or 'auto'}; "
            f"num_streams={args.num_streams}; "
            f"{args.frames} frames, best of {args.rounds} rounds"
        )
        print(f"{'resolution':<10} {'format':<10} {'core fps':>9} {'vspipe fps':>11} {'ratio':>6}")
        for res in args.resolutions.split(","):
            photo = write_photo(folder, RESOLUTIONS[res])
            for fmt in args.formats.split(","):
                image = core_input(folder, photo, fmt)
                alone = piped = 0.0
                for _ in range(args.rounds):
                    alone = max(alone, core_fps(sharpener, image, args.frames))
                    piped = max(
                        piped, vspipe_fps(folder, photo, fmt, args.frames, model, args.num_streams, args.threads)
                    )
                print(f"{res:<10} {fmt:<10} {alone:>9.2f} {piped:>11.2f} {piped / alone:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
