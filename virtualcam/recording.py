"""``--record FILE``: write the frames sent to a video file, atomically.

Frames go to a temporary file next to the target (same folder, same suffix so
the container is right); ``finish`` closes it and renames it over the target,
so a reader never sees a half-written recording. ``discard`` removes it after
a failure.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from kdsharp_cam.errors import RecordError

#: file suffix -> OpenCV FourCC. FFV1 is lossless; the others are for sharing.
CODECS: dict[str, str] = {
    ".mkv": "FFV1",
    ".avi": "MJPG",
    ".mp4": "mp4v",
    ".mov": "mp4v",
}


def check_target(path: Path) -> str | None:
    """Return why ``path`` cannot be recorded to, or ``None`` when it can."""
    if path.suffix.lower() not in CODECS:
        return f"--record {path}: unsupported suffix {path.suffix or '(none)'}; use one of {', '.join(CODECS)}"
    if not path.parent.is_dir():
        return f"--record {path}: folder {path.parent} does not exist"
    if path.is_dir():
        return f"--record {path}: is a folder"
    return None


class Recorder:
    """An OpenCV ``VideoWriter`` into a temporary file, renamed on ``finish``.

    Args:
        path: the final file; its suffix picks the codec (``CODECS``).
        size: ``(width, height)`` of every frame.
        fps: frame rate stored in the file.

    Raises:
        RecordError: the suffix is unsupported or the writer cannot start.
    """

    def __init__(self, path: Path, size: tuple[int, int], fps: float) -> None:
        problem = check_target(path)
        if problem:
            raise RecordError(problem)
        self.path = path
        self.size = size
        self.frames = 0
        handle, temp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
        os.close(handle)
        self.temp = Path(temp)
        fourcc = cv2.VideoWriter_fourcc(*CODECS[path.suffix.lower()])
        self.writer: cv2.VideoWriter | None = cv2.VideoWriter(str(self.temp), fourcc, float(fps), size)
        if not self.writer.isOpened():
            self.writer = None
            self.temp.unlink(missing_ok=True)
            raise RecordError(f"--record {path}: OpenCV cannot write {CODECS[path.suffix.lower()]} video here")

    def write(self, rgb: np.ndarray) -> None:
        """Append one ``H×W×3`` uint8 RGB frame of the recorder's size."""
        if self.writer is None:
            raise RecordError(f"--record {self.path}: the recording is already closed")
        self.writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def finish(self) -> Path | None:
        """Close the file and move it into place; returns the path, or ``None`` if no frame was written."""
        if self.writer is None:
            return None
        self.writer.release()
        self.writer = None
        if self.frames == 0:
            self.temp.unlink(missing_ok=True)
            return None
        os.replace(self.temp, self.path)
        return self.path

    def discard(self) -> None:
        """Close and delete the temporary file, leaving any existing target untouched."""
        if self.writer is not None:
            self.writer.release()
            self.writer = None
        self.temp.unlink(missing_ok=True)
