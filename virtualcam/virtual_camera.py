"""Opening the virtual camera through pyvirtualcam, with one-line advice when it is missing.

pyvirtualcam picks the platform backend: ``v4l2loopback`` on Linux, ``obs``
(OBS Virtual Camera) on Windows and macOS, ``unitycapture`` on Windows.
Further backends can be added with ``pyvirtualcam.register_backend``.
"""

from __future__ import annotations

import sys

import pyvirtualcam
from pyvirtualcam import PixelFormat

from kdsharp_cam.errors import DeviceError

LINUX_HINT = (
    'load it with: sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="kdsharp"'
    " (package v4l2loopback-dkms), or run with --camera none to only record or benchmark"
)
OBS_HINT = (
    "install OBS Studio 26.1 or newer and start its Virtual Camera once (Start Virtual Camera, then Stop),"
    " or run with --camera none to only record or benchmark"
)


def backend_names() -> list[str]:
    """Names of the pyvirtualcam backends registered in this process."""
    return sorted(pyvirtualcam.camera.BACKENDS)


def open_camera(
    width: int,
    height: int,
    fps: float,
    fmt: PixelFormat,
    *,
    device: str | None = None,
    backend: str | None = None,
) -> pyvirtualcam.Camera:
    """Open a virtual camera sending ``width × height`` frames in ``fmt`` at ``fps``.

    Args:
        width, height: frame size in pixels.
        fps: the rate frames are sent at (and paced to by ``sleep_until_next_frame``).
        fmt: pixel format of the frames given to ``Camera.send``.
        device: a device such as ``/dev/video2`` or ``OBS Virtual Camera``; ``None`` takes the first free one.
        backend: a pyvirtualcam backend name; ``None`` tries every registered backend.

    Raises:
        DeviceError: no usable virtual camera; the message says how to get one.
    """
    if backend is not None and backend not in pyvirtualcam.camera.BACKENDS:
        raise DeviceError(
            f"no virtual camera backend {backend!r} here (registered: {', '.join(backend_names()) or 'none'})"
        )
    if not pyvirtualcam.camera.BACKENDS:
        raise DeviceError(f"pyvirtualcam has no virtual camera backend on {sys.platform}; run with --camera none")
    try:
        return pyvirtualcam.Camera(width, height, fps, fmt=fmt, device=device, backend=backend)
    except RuntimeError as exc:
        # pyvirtualcam joins one line per backend tried; keep them on one line.
        reasons = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        if "v4l2" in reasons and ("No v4l2 loopback device" in reasons or "does not exist" in reasons):
            where = device or "/dev/video*"
            raise DeviceError(f"no v4l2loopback device at {where}; {LINUX_HINT}") from None
        if "'obs' backend" in reasons:
            raise DeviceError(f"OBS Virtual Camera is not available ({reasons}); {OBS_HINT}") from None
        raise DeviceError(f"cannot open the virtual camera: {reasons}") from None
