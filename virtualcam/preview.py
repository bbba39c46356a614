"""``--preview``: a small Tk window showing what the camera sends.

OpenCV here is the headless build (no ``imshow``), so the window is Tk, which
ships with Python. Frames reach it as PPM data for a ``PhotoImage``; frames
wider than ``MAX_WIDTH`` are shown scaled down (display only, what is sent is
untouched). Tk must run on the main thread, so the CLI runs this loop there
while the pipe's threads work.

Keys: ``s`` or space toggles sharpening, ``q`` or Escape quits; closing the
window quits too.
"""

from __future__ import annotations

import os
import sys
from typing import Any
from collections.abc import Callable

import cv2
import numpy as np

from kdsharp_cam.errors import PreviewError
from kdsharp_cam.pipeline import LatestFrame

MAX_WIDTH = 1280
TICK_MS = 15


def ppm(rgb: np.ndarray) -> bytes:
    """Binary PPM (P6) bytes of an ``H×W×3`` uint8 RGB frame."""
    height, width = rgb.shape[:2]
    return b"P6 %d %d 255\n" % (width, height) + np.ascontiguousarray(rgb).tobytes()


def display_size(width: int, height: int, max_width: int = MAX_WIDTH) -> tuple[int, int]:
    """Size the preview shows a ``width × height`` frame at (never larger than the frame)."""
    if width <= max_width:
        return width, height
    return max_width, max(1, round(height * max_width / width))


class Preview:
    """A Tk window fed from a ``LatestFrame``.

    Args:
        latest: where the output thread leaves the newest frame.
        title: window title.
        on_toggle: called by the toggle keys.
        on_quit: called by the quit keys and by closing the window.

    Raises:
        PreviewError: no display, or Tk is missing or cannot start.
    """

    def __init__(
        self, latest: LatestFrame, *, title: str, on_toggle: Callable[[], Any], on_quit: Callable[[], Any]
    ) -> None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise PreviewError(
                "--preview needs a display and neither DISPLAY nor WAYLAND_DISPLAY is set; run without --preview"
            )
        try:
            import tkinter
        except ImportError:
            raise PreviewError("--preview needs Tk, and this Python has no tkinter; run without --preview") from None
        try:
            self.root = tkinter.Tk()
        except tkinter.TclError as exc:
            raise PreviewError(f"--preview cannot open a window ({exc}); run without --preview") from None
        self.tkinter = tkinter
        self.root.title(title)
        self.label = tkinter.Label(self.root, bd=0)
        self.label.pack()
        self.photo: Any = None
        self.latest = latest
        self.seen = 0
        self.shown = 0
        for key in ("s", "S", "space"):
            self.root.bind(f"<KeyPress-{key}>", lambda event: on_toggle())
        for key in ("q", "Q", "Escape"):
            self.root.bind(f"<KeyPress-{key}>", lambda event: on_quit())
        self.root.protocol("WM_DELETE_WINDOW", on_quit)

    def show(self, rgb: np.ndarray) -> None:
        """Put one ``H×W×3`` uint8 RGB frame in the window."""
        height, width = rgb.shape[:2]
        size = display_size(width, height)
        if size != (width, height):
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        self.photo = self.tkinter.PhotoImage(data=ppm(rgb), format="PPM")
        self.label.configure(image=self.photo)
        self.shown += 1

    def refresh(self) -> None:
        """Show the newest frame if it changed since the last call."""
        frame, self.seen = self.latest.take(self.seen)
        if frame is not None:
            self.show(frame)

    def run(self, finished: Callable[[], bool], every: Callable[[], Any]) -> None:
        """Run the Tk loop until ``finished()``; ``every()`` runs on each tick (stats line)."""

        def tick() -> None:
            if finished():
                self.root.quit()
                return
            self.refresh()
            every()
            self.root.after(TICK_MS, tick)

        self.root.after(TICK_MS, tick)
        self.root.mainloop()

    def close(self) -> None:
        """Destroy the window."""
        try:
            self.root.destroy()
        except self.tkinter.TclError:
            pass
