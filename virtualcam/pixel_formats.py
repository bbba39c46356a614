"""Pixel formats the virtual camera accepts, and the conversion from RGB.

The core works on ``H×W×3`` uint8 RGB; virtual camera devices often want YUV.
pyvirtualcam converts RGB itself (with libyuv) when a device needs it, so
``rgb`` is always right; the YUV formats let a caller hand the device its
native layout directly. Conversions are OpenCV's (BT.601, limited range), not
maths written here.
"""

from __future__ import annotations

import cv2
import numpy as np
from pyvirtualcam import PixelFormat

from kdsharp_cam.pictures import Picture, split_i420

#: CLI name -> pyvirtualcam pixel format.
PIXEL_FORMATS: dict[str, PixelFormat] = {
    "rgb": PixelFormat.RGB,
    "bgr": PixelFormat.BGR,
    "i420": PixelFormat.I420,
    "nv12": PixelFormat.NV12,
    "yuyv": PixelFormat.YUYV,
    "uyvy": PixelFormat.UYVY,
}

#: Formats a frame held in I420 reaches without a trip through RGB.
FOUR_TWO_ZERO = frozenset({PixelFormat.I420, PixelFormat.NV12})

#: Formats with subsampled chroma need even frame sides.
NEEDS_EVEN_WIDTH = frozenset({PixelFormat.I420, PixelFormat.NV12, PixelFormat.YUYV, PixelFormat.UYVY})
NEEDS_EVEN_HEIGHT = frozenset({PixelFormat.I420, PixelFormat.NV12})


def choose(name: str, width: int, height: int) -> PixelFormat:
    """The pixel format for ``--pixel-format name``: ``auto`` is I420 when both sides are even, RGB otherwise.

    I420 is what v4l2loopback consumers (Chrome, Zoom, Teams) read, and
    pyvirtualcam would convert RGB to it anyway; sent as I420, a luma model's
    frames never leave Y'CbCr (see ``pictures``).
    """
    if name == "auto":
        return PixelFormat.I420 if check_size(PixelFormat.I420, width, height) is None else PixelFormat.RGB
    return PIXEL_FORMATS[name]


def check_size(fmt: PixelFormat, width: int, height: int) -> str | None:
    """Return why ``width × height`` cannot be sent in ``fmt``, or ``None`` when it can."""
    if fmt in NEEDS_EVEN_WIDTH and width % 2:
        return f"pixel format {fmt.name} needs an even width, got {width}"
    if fmt in NEEDS_EVEN_HEIGHT and height % 2:
        return f"pixel format {fmt.name} needs an even height, got {height}"
    return None


def from_rgb(rgb: np.ndarray, fmt: PixelFormat) -> np.ndarray:
    """Convert one frame to the layout ``pyvirtualcam.Camera.send`` expects for ``fmt``.

    Args:
        rgb: ``H×W×3`` uint8 RGB, sides even for the YUV formats (see ``check_size``).
        fmt: the camera's pixel format.

    Returns:
        uint8 array: ``H×W×3`` for RGB/BGR; ``(H·3/2)×W`` planes for I420
        (Y, U, V) and NV12 (Y, interleaved UV); ``H×W×2`` for YUYV/UYVY.
    """
    if fmt is PixelFormat.RGB:
        return rgb
    if fmt is PixelFormat.BGR:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if fmt is PixelFormat.YUYV:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_YUY2)
    if fmt is PixelFormat.UYVY:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_UYVY)
    if fmt in FOUR_TWO_ZERO:
        return from_i420(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), fmt)
    raise ValueError(f"unsupported pixel format {fmt}")


def from_i420(i420: np.ndarray, fmt: PixelFormat) -> np.ndarray:
    """An I420 block (``(H·3/2)×W``) as ``fmt``, which must be I420 or NV12."""
    if fmt is PixelFormat.I420:
        return i420
    if fmt is not PixelFormat.NV12:
        raise ValueError(f"from_i420 makes I420 or NV12, not {fmt}")
    y, u, v = split_i420(i420)
    nv12 = np.empty_like(i420)
    nv12[: y.shape[0]] = y
    # NV12 is I420 with the U and V planes interleaved (U first).
    uv = nv12[y.shape[0] :].reshape(-1)
    uv[0::2] = u.reshape(-1)
    uv[1::2] = v.reshape(-1)
    return nv12


def for_camera(picture: Picture, fmt: PixelFormat) -> np.ndarray:
    """What ``Camera.send`` takes for ``fmt``, from whichever layout ``picture`` holds (4:2:0 formats from I420)."""
    if fmt in FOUR_TWO_ZERO:
        return from_i420(picture.i420(), fmt)
    return from_rgb(picture.rgb(), fmt)
