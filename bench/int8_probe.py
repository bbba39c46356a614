"""What int8 (VNNI/AMX) would buy a shipped model on this CPU: network time and picture cost.

Run::

    .venv/bin/python bench/int8_probe.py --model weights/kdsharp-quality.onnx \
        --photos /root/.cache/kdsharp/data/photos/train [--threads 2] [--side 1024]

It quantizes the model as ``kdsharp-train export --int8`` does (``export.quantize_int8``: static QDQ,
int8 weights per output channel, uint8 activations, MinMax) with calibration crops of the first photos of
``--photos`` (training photos: never val/, tune/
or the reserved sets), then times the bare network of both files through onnxruntime on a
1×C×side×side tensor, and scores both on other photos of the folder softened by a Gaussian blur
(σ 1.2): PSNR against the sharp photo, and int8 against float32. Nothing is written outside a
temporary folder; the core never loads these files.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
from kdsharp_train.export import quantize_int8
from PIL import Image, ImageFilter

from timing import median_ms

from kdsharp.pixels import LUMA_WEIGHTS


def planes(rgb: np.ndarray, channels: int) -> np.ndarray:
    """H×W×3 float in [0, 1] → 1×C×H×W network input (C 3: RGB, C 1: BT.601 luma)."""
    x = rgb if channels == 3 else (rgb @ LUMA_WEIGHTS)[:, :, None]
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def crops(photos: list[Path], side: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(sharp, softened) H×W×3 float crops of ``side`` px, one per photo that is large enough."""
    rng = np.random.default_rng(seed)
    for path in photos:
        with Image.open(path) as im:
            rgb = im.convert("RGB")
        if min(rgb.size) < side:
            continue
        x, y = (int(rng.integers(0, n - side + 1)) for n in rgb.size)
        sharp = rgb.crop((x, y, x + side, y + side))
        soft = sharp.filter(ImageFilter.GaussianBlur(1.2))
        yield (np.asarray(sharp, dtype=np.float32) / 255, np.asarray(soft, dtype=np.float32) / 255)


def session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--photos", type=Path, required=True, help="a folder of training photos")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--side", type=int, default=1024, help="timed tensor side (1024: one megapixel)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--calibration", type=int, default=16, help="photos used for calibration")
    ap.add_argument("--scored", type=int, default=8, help="further photos scored")
    ns = ap.parse_args()
    photos = sorted(p for p in ns.photos.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    if len(photos) < ns.calibration + 1:
        raise SystemExit(f"int8_probe: {ns.photos} has {len(photos)} photos, need more than {ns.calibration}")
    fp32 = session(ns.model, ns.threads)
    name = fp32.get_inputs()[0].name
    channels = int(fp32.get_inputs()[0].shape[1])
    with tempfile.TemporaryDirectory() as tmp:
        calibration = [planes(soft, channels) for _, soft in crops(photos[: ns.calibration], 128, seed=0)]
        q8 = Path(tmp) / "int8.onnx"
        q8.write_bytes(quantize_int8(ns.model.read_bytes(), calibration, Path(tmp)))
        int8 = session(q8, ns.threads)
        feed = {name: np.random.default_rng(0).random((1, channels, ns.side, ns.side), dtype=np.float32)}
        t32, t8 = (median_ms(lambda s=s: s.run(None, feed), ns.repeats, warmup=1) / 1000 for s in (fp32, int8))
        scores = []
        for sharp, soft in crops(photos[ns.calibration :][: ns.scored], 256, seed=1):
            target, x = planes(sharp, channels), planes(soft, channels)
            y32 = np.clip(fp32.run(None, {name: x})[0], 0, 1)
            y8 = np.clip(int8.run(None, {name: x})[0], 0, 1)
            scores.append((psnr(x, target), psnr(y32, target), psnr(y8, target), psnr(y8, y32)))
    mean = np.mean(scores, axis=0)
    mp = ns.side * ns.side / 1e6
    print(f"{ns.model.name}: {ns.threads} threads, load average {os.getloadavg()[0]:.2f}, {len(scores)} photos scored")
    print("| file | network s per MP | speed-up | PSNR vs sharp (input %.2f) | PSNR vs float32 |" % mean[0])
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| float32 | {t32 / mp:.3f} | 1.00 | {mean[1]:.2f} | – |")
    print(f"| int8 | {t8 / mp:.3f} | {t32 / t8:.2f} | {mean[2]:.2f} | {mean[3]:.2f} |")


if __name__ == "__main__":
    main()
