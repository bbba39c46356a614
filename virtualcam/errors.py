"""Errors of the virtual webcam host, under the core's ``KdsharpError`` root.

``cli.main`` turns every one of them into a single line and an exit code.
"""

from __future__ import annotations

from kdsharp import KdsharpError


class CamError(KdsharpError):
    """Root of the errors raised by ``kdsharp_cam``."""


class SourceError(CamError):
    """The camera, device, file or stream cannot be opened or read."""


class DeviceError(CamError):
    """The virtual camera cannot be opened (no v4l2loopback device, no OBS Virtual Camera)."""


class RecordError(CamError):
    """The recording file cannot be written."""


class PreviewError(CamError):
    """The preview window cannot be shown (no display, no Tk)."""


class UsageError(CamError):
    """A command-line argument is unusable (the CLI exits with status 2)."""
