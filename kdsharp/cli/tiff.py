"""Float and 16-bit colour TIFF files, read and written with tifffile (Pillow handles neither faithfully).

Arrays are ``H×W×C`` (C = 1–4, alpha last): float32 for floating-point files
(float16 and float64 samples are read as float32; float outputs are written as
float32), uint16 for 16-bit colour. Values of a float file outside 0–1 are kept
(see ``kdsharp.cli.sharpen``). The metadata that travels: ICC profile,
resolution, the textual tags (description, make, model, software, date, artist,
copyright) and the compression (LZW, Deflate, PackBits or none; others become
Deflate). 8-bit and 16-bit gray TIFFs stay with Pillow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kdsharp.cli.deep_color import orient
from kdsharp.cli.metadata import TIFF_TEXT_TAGS, Metadata
from kdsharp.cli.problems import FileProblem

_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: tifffile compression names <-> the Pillow names ``Metadata.tiff_compression`` holds.
_COMPRESSION = {"NONE": "raw", "LZW": "tiff_lzw", "ADOBE_DEFLATE": "tiff_adobe_deflate", "DEFLATE": "tiff_deflate", "PACKBITS": "packbits"}
_WRITE_COMPRESSION = {"raw": None, "tiff_lzw": "lzw", "tiff_adobe_deflate": "zlib", "tiff_deflate": "zlib", "packbits": "packbits"}


def _tifffile() -> Any:
    import tifffile

    return tifffile


def is_tiff(path: Path) -> bool:
    """True when the file starts with a TIFF (or BigTIFF) signature."""
    try:
        with open(path, "rb") as f:
            return f.read(4) in _MAGIC
    except OSError:
        return False


def needs_tifffile(path: Path) -> bool:
    """True for TIFFs whose samples are floating point, or 16-bit with two or more samples.

    A file tifffile cannot parse returns False: Pillow then reads it, or names the damage.
    """
    if not is_tiff(path):
        return False
    tifffile = _tifffile()
    try:
        with tifffile.TiffFile(path) as tf:
            page = tf.pages.first
            return page.dtype is not None and (page.dtype.kind == "f" or (page.dtype.itemsize == 2 and page.samplesperpixel >= 2))
    except Exception:  # tifffile raises many kinds on damaged files; Pillow's reading reports them
        return False


def read(path: Path) -> tuple[np.ndarray, Metadata]:
    """Read a float or 16-bit colour TIFF as upright ``H×W×C`` float32 or uint16, with its metadata.

    Raises:
        FileProblem: several pages, an unsupported layout, or damaged data (naming ``path``).
    """
    tifffile = _tifffile()
    try:
        with tifffile.TiffFile(path) as tf:
            pages = len(tf.pages)
            if pages > 1:
                raise FileProblem(path, f"has {pages} frames; kdsharp sharpens still images (use `kdsharp video` for movies)")
            page = tf.pages.first
            arr = page.asarray()
            axes = page.axes
            tags = {t.code: t.value for t in page.tags.values()}
            compression = _COMPRESSION.get(page.compression.name, "tiff_adobe_deflate")
    except FileProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - tifffile's decoders raise many kinds on damaged data
        raise FileProblem(path, f"truncated or corrupt image ({str(exc).strip() or type(exc).__name__})") from None
    if axes == "SYX":
        arr = arr.transpose(1, 2, 0)
    elif axes == "YX":
        arr = arr[:, :, None]
    elif axes != "YXS":
        raise FileProblem(path, f"unsupported TIFF layout {axes} (kdsharp reads one image of gray, RGB or RGBA samples)")
    if arr.shape[2] > 4:
        raise FileProblem(path, f"has {arr.shape[2]} samples per pixel (kdsharp handles 1 to 4)")
    arr = arr.astype(np.float32) if arr.dtype.kind == "f" else arr.astype(np.uint16)
    if arr.dtype == np.float32 and not np.isfinite(arr).all():
        raise FileProblem(path, "holds NaN or infinite values, which cannot be sharpened")
    arr = orient(np.ascontiguousarray(arr), int(tags.get(274, 1) or 1))
    dpi = None
    if 282 in tags and 283 in tags:
        per = 2.54 if int(tags.get(296, 2)) == 3 else 1.0  # ResolutionUnit 3: centimetres
        try:
            dpi = (float(tags[282][0]) / float(tags[282][1]) * per, float(tags[283][0]) / float(tags[283][1]) * per)
        except (TypeError, ValueError, ZeroDivisionError, IndexError):
            dpi = None
    icc = tags.get(34675)
    metadata = Metadata(
        icc_profile=bytes(icc) if icc else None,
        dpi=dpi,
        # tifffile's own shape description is not the user's: it is left behind.
        tiff_tags={t: tags[t] for t in TIFF_TEXT_TAGS if isinstance(tags.get(t), str) and not tags[t].startswith('{"shape"')},
        tiff_compression=compression,
    )
    return arr, metadata


def write(pixels: np.ndarray, path: Path, metadata: Metadata) -> None:
    """Write ``H×W×C`` float32 or uint16 pixels as a TIFF of the same sample type.

    Raises:
        OSError: the file cannot be written.
    """
    tifffile = _tifffile()
    channels = pixels.shape[2]
    data = pixels[:, :, 0] if channels == 1 else pixels
    extratags = []
    for code in TIFF_TEXT_TAGS:
        value = metadata.tiff_tags.get(code)
        if isinstance(value, str) and code not in (270, 305, 306):
            extratags.append((code, "s", 0, value, True))
    options: dict[str, Any] = {
        "photometric": "rgb" if channels >= 3 else "minisblack",
        "compression": _WRITE_COMPRESSION.get(metadata.tiff_compression or "", "zlib"),
        "metadata": None,
        "extratags": extratags,
        "software": False,
    }
    if channels in (2, 4):
        options["extrasamples"] = ("unassalpha",)
    if metadata.dpi:
        options["resolution"] = metadata.dpi
        options["resolutionunit"] = "INCH"
    if metadata.icc_profile:
        options["iccprofile"] = metadata.icc_profile
    for code, name in ((270, "description"), (305, "software"), (306, "datetime")):
        if isinstance(metadata.tiff_tags.get(code), str):
            options[name] = metadata.tiff_tags[code]
    tifffile.imwrite(path, np.ascontiguousarray(data), **options)
