"""16-bit colour PNG files, which Pillow would reduce to 8 bits, read and written with OpenCV (TIFFs: ``tiff``).

Arrays are ``H×W×C`` uint16 RGB(A) (OpenCV's BGR order stays inside this
module). PNG outputs get their metadata (ICC profile, resolution, text, EXIF)
as chunks added to OpenCV's file; OpenCV's TIFF writer keeps none.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from kdsharp.cli.metadata import Metadata
from kdsharp.cli.problems import FileProblem, import_extra

_PURPOSE = "16-bit colour PNG/TIFF"


def _cv2() -> Any:
    return import_extra("cv2", "bench", _PURPOSE)


def orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1–8) to an ``H×W×C`` array; returns an upright view or copy."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: a.transpose(1, 0, 2)[:, ::-1],
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: a.transpose(1, 0, 2)[::-1],
    }
    return np.ascontiguousarray(ops[orientation](pixels)) if orientation in ops else pixels


def read(path: Path, orientation: int) -> np.ndarray:
    """Read a 16-bit colour file as upright ``H×W×C`` uint16 RGB or RGBA.

    Raises:
        FileProblem: OpenCV cannot decode it.
        MissingExtra: OpenCV is not installed.
    """
    cv2 = _cv2()
    data = np.fromfile(path, dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if bgr is None:
        raise FileProblem(path, "truncated or corrupt image (OpenCV cannot decode it)")
    if bgr.dtype != np.uint16:
        bgr = bgr.astype(np.uint16) * 257
    if bgr.ndim == 2:
        bgr = bgr[:, :, None]
    code = {3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGBA}.get(bgr.shape[2])
    rgb = cv2.cvtColor(bgr, code) if code is not None else bgr
    if rgb.ndim == 2:
        rgb = rgb[:, :, None]
    return orient(rgb, orientation)


def write(pixels: np.ndarray, path: Path, fmt: str, metadata: Metadata) -> None:
    """Write ``H×W×C`` uint16 (C 2–4) as a 16-bit PNG or TIFF.

    Gray+alpha is written as RGBA (OpenCV writes 1, 3 or 4 channels).

    Raises:
        OSError: OpenCV cannot encode or the file cannot be written.
    """
    cv2 = _cv2()
    if pixels.shape[2] == 2:
        gray, alpha = pixels[:, :, :1], pixels[:, :, 1:]
        pixels = np.concatenate([gray, gray, gray, alpha], axis=2)
    code = cv2.COLOR_RGB2BGR if pixels.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
    bgr = cv2.cvtColor(np.ascontiguousarray(pixels), code)
    ok, encoded = cv2.imencode(".png" if fmt == "PNG" else ".tiff", bgr)
    if not ok:
        raise OSError(f"OpenCV cannot encode a 16-bit {fmt}")
    data = encoded.tobytes()
    if fmt == "PNG":
        data = add_png_metadata(data, metadata)
    path.write_bytes(data)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def add_png_metadata(png: bytes, metadata: Metadata) -> bytes:
    """Insert iCCP, pHYs, eXIf and text chunks into PNG bytes (after IHDR and before IEND)."""
    ihdr_end = 8 + 8 + 13 + 4
    before_idat = b""
    if metadata.icc_profile:
        before_idat += _chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(metadata.icc_profile))
    if metadata.dpi:
        per_metre = [max(1, round(d / 0.0254)) for d in metadata.dpi]
        before_idat += _chunk(b"pHYs", struct.pack(">IIB", per_metre[0], per_metre[1], 1))
    if metadata.exif:
        exif = metadata.exif[6:] if metadata.exif.startswith(b"Exif\x00\x00") else metadata.exif
        before_idat += _chunk(b"eXIf", exif)
    text = b"".join(
        _chunk(b"iTXt", key.encode("latin-1", "replace")[:79] + b"\x00\x00\x00\x00\x00" + value.encode("utf-8"))
        for key, value in metadata.text.items()
    )
    iend = png.rfind(b"IEND") - 4
    return png[:ihdr_end] + before_idat + png[ihdr_end:iend] + text + png[iend:]
