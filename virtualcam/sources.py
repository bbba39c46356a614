"""Frame sources: a camera (OpenCV index or device path), a video file, or a stream URL.

Every source yields ``H×W×3`` uint8 RGB frames of one fixed size. Cameras,
devices and streams are *live*: they produce frames whether or not anyone
keeps up, so the pipe drops the oldest frames when inference is slower. Files
are read as fast as the pipe consumes them (no frame lost) unless
``realtime`` paces them at their own frame rate like a camera.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator

import cv2
import numpy as np

from kdsharp_cam.errors import SourceError
from kdsharp_cam.pictures import I420, RGB, Picture, i420_from_bgr

DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class SourceSpec:
    """What to read from.

    Attributes:
        text: the source as the user wrote it.
        kind: ``camera`` (an OpenCV index), ``device`` (a device path such as
            ``/dev/video0``), ``stream`` (a URL such as ``rtsp://`` or ``tcp://``)
            or ``file``.
    """

    text: str
    kind: str

    @property
    def live(self) -> bool:
        """True for sources that run on their own clock (cameras, devices, streams)."""
        return self.kind != "file"


def parse_source(text: str) -> SourceSpec:
    """Classify a source argument.

    Raises:
        SourceError: an empty argument, or a file that does not exist.
    """
    text = text.strip()
    if not text:
        raise SourceError("the source is empty: give a camera index (0), a device (/dev/video0), a file or a URL")
    if text.isdigit():
        return SourceSpec(text, "camera")
    if "://" in text:
        return SourceSpec(text, "stream")
    if text.startswith("/dev/"):
        return SourceSpec(text, "device")
    if not Path(text).is_file():
        raise SourceError(f"source {text}: no such file (cameras are given as an index such as 0, or a device path)")
    return SourceSpec(text, "file")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Hide what FFmpeg and OpenCV print on fd 2 while a source opens.

    Their warnings ("Connection refused", "can't be used to capture by name")
    would break the promise of one line per problem; ``SourceError`` says it.
    """
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class VideoSource:
    """An OpenCV ``VideoCapture`` delivering RGB frames of one size.

    Args:
        spec: what to open.
        size: ``(width, height)`` wanted. Cameras are asked for it; frames of
            another size are resized (OpenCV ``INTER_AREA``). ``None`` keeps
            the size of the first frame for the whole run.
        fps: frame rate asked of a camera; ``None`` leaves the camera's own.
        realtime: pace a file at its frame rate and treat it as live.
    """

    def __init__(
        self,
        spec: SourceSpec,
        *,
        size: tuple[int, int] | None = None,
        fps: float | None = None,
        realtime: bool = False,
    ) -> None:
        self.spec = spec
        self.size = size
        self.requested_fps = fps
        self.realtime = realtime
        self.capture: cv2.VideoCapture | None = None
        self.frames_read = 0
        self.clock_start = 0.0

    @property
    def live(self) -> bool:
        """True when the pipe must drop frames rather than wait (see module docstring)."""
        return self.spec.live or self.realtime

    @property
    def fps(self) -> float:
        """Frame rate the source reports, or 30 when it reports none."""
        reported = self.capture.get(cv2.CAP_PROP_FPS) if self.capture is not None else 0.0
        if reported and np.isfinite(reported) and 0 < reported < 1000:
            return float(reported)
        return float(self.requested_fps or DEFAULT_FPS)

    def open(self) -> None:
        """Open (or reopen) the source.

        Raises:
            SourceError: it cannot be opened.
        """
        self.close()
        with quiet_stderr():
            if self.spec.kind == "camera":
                capture = cv2.VideoCapture(int(self.spec.text))
            elif self.spec.kind == "device" and sys.platform.startswith("linux"):
                capture = cv2.VideoCapture(self.spec.text, cv2.CAP_V4L2)
            elif self.spec.kind == "device":
                capture = cv2.VideoCapture(self.spec.text)
            else:
                capture = cv2.VideoCapture(self.spec.text, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open source {self.spec.text}")
        if self.spec.kind in ("camera", "device"):
            # A one-frame driver buffer keeps what we read close to "now".
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            if self.size is not None:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
            if self.requested_fps:
                capture.set(cv2.CAP_PROP_FPS, self.requested_fps)
        self.capture = capture
        self.frames_read = 0
        self.clock_start = time.perf_counter()

    def read(self) -> np.ndarray | None:
        """Return the next frame (``H×W×3`` uint8 RGB), or ``None`` when the source ended or failed."""
        picture = self.read_picture(RGB)
        return None if picture is None else picture.rgb()

    def read_picture(self, layout: str) -> Picture | None:
        """Return the next frame as a ``Picture`` in ``layout`` (converted once, straight from the decoder's BGR)."""
        if self.capture is None:
            return None
        if self.realtime and self.spec.kind == "file":
            due = self.clock_start + self.frames_read / self.fps
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        ok, bgr = self.capture.read()
        if not ok or bgr is None or bgr.ndim != 3 or bgr.shape[2] not in (3, 4):
            return None
        self.frames_read += 1
        height, width = bgr.shape[:2]
        if self.size is None:
            self.size = (width, height)
        elif (width, height) != self.size:
            bgr = cv2.resize(bgr, self.size, interpolation=cv2.INTER_AREA)
        if layout == I420:
            return Picture(i420_from_bgr(bgr), I420)
        return Picture(cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB if bgr.shape[2] == 4 else cv2.COLOR_BGR2RGB), RGB)

    def close(self) -> None:
        """Release the capture (safe to call twice)."""
        if self.capture is not None:
            self.capture.release()
            self.capture = None
