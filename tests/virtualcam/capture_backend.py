"""A pyvirtualcam backend that stores every frame it is sent, for the tests.

It is a real backend, registered through pyvirtualcam's public
``register_backend``, so frames travel the real ``pyvirtualcam.Camera`` path
(shape and dtype checks, flattening, pacing). It follows the contract of
``pyvirtualcam.Backend``: keyword-only constructor, an exception for an
unusable device or pixel format, ``send`` of a flat C-contiguous uint8 array,
``close`` called exactly once.

The ``device`` is a folder: each frame is saved there as ``NNNNNN.npy``,
``meta.json`` describes the stream and ``closed.json`` appears on ``close``.
A folder works across processes, so the CLI can be tested as a subprocess:
``python -c "import capture_backend; capture_backend.install(); ..."``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvirtualcam
from pyvirtualcam import PixelFormat
from pyvirtualcam.util import decode_fourcc

NAME = "kdsharp-test-capture"

#: the array shape of a frame as ``Camera.send`` receives it, per pixel format.
SHAPES = {
    PixelFormat.RGB: lambda w, h: (h, w, 3),
    PixelFormat.BGR: lambda w, h: (h, w, 3),
    PixelFormat.RGBA: lambda w, h: (h, w, 4),
    PixelFormat.GRAY: lambda w, h: (h, w),
    PixelFormat.I420: lambda w, h: (h * 3 // 2, w),
    PixelFormat.NV12: lambda w, h: (h * 3 // 2, w),
    PixelFormat.YUYV: lambda w, h: (h, w, 2),
    PixelFormat.UYVY: lambda w, h: (h, w, 2),
}


class CaptureBackend:
    """Saves frames into the folder named by ``device``."""

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw: object) -> None:
        if device is None or not Path(device).is_dir():
            raise RuntimeError(f"Device {device} does not exist.")
        self.fmt = PixelFormat(decode_fourcc(fourcc))
        self.folder = Path(device)
        self.name = device
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self.count = 0
        self.times: list[float] = []
        self.closed = False
        meta = {"width": width, "height": height, "fps": fps, "format": self.fmt.name}
        (self.folder / "meta.json").write_text(json.dumps(meta))

    def send(self, frame: np.ndarray) -> None:
        if self.closed:
            raise RuntimeError("send after close")
        if frame.dtype != np.uint8 or frame.ndim != 1 or not frame.flags.c_contiguous:
            raise RuntimeError(f"backend got {frame.dtype} {frame.shape}, not a flat C-contiguous uint8 array")
        self.times.append(time.time())
        np.save(self.folder / f"{self.count:06d}.npy", frame)
        self.count += 1

    def close(self) -> None:
        if self.closed:
            raise RuntimeError("close called twice")
        self.closed = True
        (self.folder / "closed.json").write_text(json.dumps({"frames": self.count, "times": self.times}))

    def device(self) -> str:
        return self.name

    def native_fourcc(self) -> int:
        return self.fourcc


def install() -> str:
    """Register the backend with pyvirtualcam; returns its name."""
    pyvirtualcam.register_backend(NAME, CaptureBackend)
    return NAME


@dataclass
class Capture:
    """What a capture folder holds.

    Attributes:
        width, height, fps, format: as the camera was opened.
        frames: every frame sent, reshaped to its pixel format's layout.
        closed: whether the backend was closed (the device released).
        times: ``time.time()`` of each send (only once closed).
    """

    width: int
    height: int
    fps: float
    format: PixelFormat
    frames: list[np.ndarray]
    closed: bool
    times: list[float]


def frame_files(folder: Path) -> list[Path]:
    """The saved frame files, in send order."""
    return sorted(folder.glob("[0-9]*.npy"))


def read_capture(folder: Path) -> Capture:
    """Load what the backend wrote into ``folder``."""
    meta = json.loads((folder / "meta.json").read_text())
    fmt = PixelFormat[meta["format"]]
    shape = SHAPES[fmt](meta["width"], meta["height"])
    frames = [np.load(path).reshape(shape) for path in frame_files(folder)]
    closed_file = folder / "closed.json"
    closed = closed_file.is_file()
    times = json.loads(closed_file.read_text())["times"] if closed else []
    return Capture(meta["width"], meta["height"], meta["fps"], fmt, frames, closed, times)
