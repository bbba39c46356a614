"""Frames in flight in one of two layouts, converted to the other only when an output asks.

* ``rgb``: ``H×W×3`` uint8 RGB, what the core's ``sharpen`` takes and what
  recordings and the preview show;
* ``i420``: OpenCV's planar Y'CbCr 4:2:0 block (``(H·3/2)×W`` uint8: the Y'
  plane, then the U and V planes of ``H/2 × W/2`` each; BT.601, video levels),
  what meeting apps read from a virtual camera.

With a luma model the pipe can stay in I420 from capture to camera: the core
sharpens the Y' plane in video levels (``Sharpener.sharpen_planes(...,
limited_range=True)``) and the chroma planes pass through. That skips the
RGB ↔ Y'CbCr work a 4:2:0 camera format would need anyway, which is what lets
the pipe keep up with the core alone on a 2-core machine. Conversions are
OpenCV's; no pixel maths is written here.
"""

from __future__ import annotations

import cv2
import numpy as np

RGB, I420 = "rgb", "i420"
LAYOUTS = (RGB, I420)


def i420_from_bgr(bgr: np.ndarray) -> np.ndarray:
    """``H×W×3`` (or ×4) uint8 BGR(A), even sides → ``(H·3/2)×W`` I420."""
    if bgr.shape[2] == 4:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_BGRA2BGR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)


def split_i420(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y' (``H×W``), U and V (``H/2 × W/2``) planes of an I420 block."""
    rows, width = block.shape
    height = rows * 2 // 3
    flat = block.reshape(-1)
    luma = height * width
    quarter = luma // 4
    u = flat[luma : luma + quarter].reshape(height // 2, width // 2)
    v = flat[luma + quarter :].reshape(height // 2, width // 2)
    return block[:height], u, v


def join_i420(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """One I420 block from its three planes (copied)."""
    height, width = y.shape
    block = np.empty((height * 3 // 2, width), np.uint8)
    by, bu, bv = split_i420(block)
    by[...], bu[...], bv[...] = y, u, v
    return block


class Picture:
    """One frame, held as RGB or I420, with the other layout made on first request and kept.

    Args:
        data: the pixels in ``layout``.
        layout: ``"rgb"`` or ``"i420"``.
    """

    def __init__(self, data: np.ndarray, layout: str) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        self.layout = layout
        self._views = {layout: data}

    def rgb(self) -> np.ndarray:
        """``H×W×3`` uint8 RGB."""
        if RGB not in self._views:
            self._views[RGB] = cv2.cvtColor(self._views[I420], cv2.COLOR_YUV2RGB_I420)
        return self._views[RGB]

    def i420(self) -> np.ndarray:
        """``(H·3/2)×W`` uint8 I420 (sides must be even)."""
        if I420 not in self._views:
            self._views[I420] = cv2.cvtColor(self._views[RGB], cv2.COLOR_RGB2YUV_I420)
        return self._views[I420]


def side_by_side(left: Picture, right: Picture) -> Picture:
    """``left`` and ``right`` next to each other, in ``right``'s layout."""
    if right.layout == RGB:
        return Picture(np.concatenate((left.rgb(), right.rgb()), axis=1), RGB)
    a, b = split_i420(left.i420()), split_i420(right.i420())
    return Picture(join_i420(*(np.concatenate(pair, axis=1) for pair in zip(a, b))), I420)
