"""Reading and writing still images with Pillow, keeping what metadata it can.

Pixels handed to the core are ``H×W×C`` uint8, uint16 or float32 arrays, upright
(EXIF orientation applied), with C = 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA).
Pillow reads 16-bit colour PNG files as 8-bit, so those go through
``kdsharp.cli.deep_color`` (OpenCV); float and 16-bit colour TIFFs go through
``kdsharp.cli.tiff`` (tifffile); 16-bit gray stays in Pillow. A single-frame GIF
is a palette image like a palette PNG; animated GIFs are refused like animated WebP.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kdsharp.cli.metadata import TIFF_TEXT_TAGS, Metadata
from kdsharp.cli.problems import FileProblem, describe_os_error

#: Pillow format name -> the suffix used when a format is chosen by name.
WRITE_FORMATS: dict[str, str] = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp", "GIF": ".gif"}

#: File suffix (lowercase) -> Pillow format name, for outputs named by the user and for folder scans.
FORMAT_BY_SUFFIX: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".gif": "GIF",
}

#: Formats Pillow may report when reading -> the format written back. MPO is a camera JPEG with a preview.
READ_FORMATS: dict[str, str] = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "TIFF": "TIFF", "WEBP": "WEBP", "BMP": "BMP", "GIF": "GIF"}

#: TIFF compressions written back as they were; others (JPEG-in-TIFF, fax) become LZW.
_TIFF_KEEP_COMPRESSION = ("raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits")
#: TIFF tags that describe the file's own pixel layout (size, strips, tiles, samples, palette, ICC) and never travel.
_TIFF_LAYOUT_TAGS = (
    254,
    255,
    256,
    257,
    258,
    259,
    262,
    266,
    273,
    277,
    278,
    279,
    280,
    281,
    282,
    283,
    284,
    296,
    317,
    320,
    322,
    323,
    324,
    325,
    338,
    339,
    340,
    341,
    530,
    531,
    532,
    34675,
)
#: What Pillow's decoders raise on damaged files besides OSError (found by feeding them truncated and flipped bytes).
_DECODER_FAILURES = (SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError, KeyError, TypeError)
_DEFAULT_JPEG_QUALITY = 95
_DEFAULT_WEBP_QUALITY = 90


@dataclass(frozen=True)
class Picture:
    """An image read from a file.

    Attributes:
        pixels: ``H×W×C`` uint8 or uint16, C in {1, 2, 3, 4}, upright.
        format: Pillow name of the format to write back (``PNG``, ``JPEG``, ...).
        metadata: what is kept in the output.
        warnings: what the decoder complained about while still reading the pixels
            (corrupt EXIF, a damaged tag), one line each.
    """

    pixels: np.ndarray
    format: str
    metadata: Metadata
    warnings: tuple[str, ...] = ()


def _pillow() -> Any:
    from PIL import Image

    return Image


def read_image(path: Path) -> Picture:
    """Read an image file into upright pixels and metadata.

    Pillow's warnings are collected into ``Picture.warnings`` instead of being printed.

    Raises:
        FileProblem: missing, unreadable, empty, not an image, unsupported,
            truncated or corrupt (naming ``path``).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        picture = _read_image(path)
    Image = _pillow()
    messages = []
    for item in caught:
        if issubclass(item.category, Image.DecompressionBombWarning):
            continue  # large photos are what users sharpen; only Pillow's hard limit (an error) applies
        text = " ".join(str(item.message).split())
        if text and text not in messages:
            messages.append(text)
    return replace(picture, warnings=tuple(messages))


def _read_image(path: Path) -> Picture:
    Image = _pillow()
    from PIL import ImageOps, UnidentifiedImageError

    try:
        if path.stat().st_size == 0:
            raise FileProblem(path, "empty file")
        from kdsharp.cli import tiff

        if tiff.needs_tifffile(path):
            pixels, metadata = tiff.read(path)
            return Picture(pixels=pixels, format="TIFF", metadata=metadata)
        im = Image.open(path)
    except FileProblem:
        raise
    except UnidentifiedImageError:
        raise FileProblem(path, "not an image (cannot identify image file)") from None
    except Image.DecompressionBombError as exc:
        raise FileProblem(path, f"image too large ({exc})") from None
    except OSError as exc:
        if exc.errno is None:  # Pillow's decoders raise plain OSErrors about the data
            raise FileProblem(path, f"truncated or corrupt image ({str(exc).strip() or type(exc).__name__})") from None
        raise FileProblem(path, f"cannot read ({describe_os_error(exc)})") from None
    except _DECODER_FAILURES as exc:
        raise FileProblem(path, f"truncated or corrupt image ({str(exc).strip() or type(exc).__name__})") from None
    with im:
        fmt = READ_FORMATS.get(im.format or "")
        if fmt is None:
            names = ", ".join(WRITE_FORMATS)
            raise FileProblem(path, f"unsupported image format {im.format} (kdsharp reads {names})")
        try:
            frames = getattr(im, "n_frames", 1)
            if frames > 1 and im.format != "MPO":
                raise FileProblem(path, f"has {frames} frames; kdsharp sharpens still images (use `kdsharp video` for movies)")
            im.load()
            metadata = _source_metadata(im, fmt, path)
            if _is_deep_color(im, path):
                from kdsharp.cli import deep_color

                orientation = int(im.getexif().get(0x0112, 1) or 1)
                pixels = deep_color.read(path, orientation)
                return Picture(pixels=pixels, format=fmt, metadata=replace(metadata, exif=_exif_without_orientation(im)))
            upright = ImageOps.exif_transpose(im)
            metadata = replace(metadata, exif=_exif_without_orientation(im), xmp=upright.info.get("xmp", metadata.xmp))
            pixels, icc = _to_array(upright, path, metadata.icc_profile)
            return Picture(pixels=pixels, format=fmt, metadata=replace(metadata, icc_profile=icc))
        except FileProblem:
            raise
        except Image.DecompressionBombError as exc:
            raise FileProblem(path, f"image too large ({exc})") from None
        except (OSError, *_DECODER_FAILURES) as exc:
            text = str(exc).strip() or type(exc).__name__
            raise FileProblem(path, f"truncated or corrupt image ({text})") from None


def _exif_without_orientation(im: Any) -> bytes | None:
    """The source's EXIF (sub-IFDs included) minus the orientation and, for TIFF, the tags describing its own layout."""
    exif = im.getexif()
    exif.pop(0x0112, None)
    if im.format == "TIFF":
        for tag in _TIFF_LAYOUT_TAGS:
            exif.pop(tag, None)
    return exif.tobytes() if len(exif) else None


def _source_metadata(im: Any, fmt: str, path: Path) -> Metadata:
    text: dict[str, str] = {}
    if im.format == "PNG":
        text = {str(k): str(v) for k, v in getattr(im, "text", {}).items()}
    tiff_tags: dict[int, Any] = {}
    if im.format == "TIFF":
        tags = im.tag_v2
        tiff_tags = {t: tags[t] for t in TIFF_TEXT_TAGS if t in tags and isinstance(tags[t], str)}
    qtables, sampling = None, -1
    if fmt == "JPEG":
        from PIL import JpegImagePlugin

        qtables = getattr(im, "quantization", None) or None
        sampling = JpegImagePlugin.get_sampling(im)
    dpi = im.info.get("dpi")
    if dpi is not None:
        try:
            dpi = (float(dpi[0]), float(dpi[1]))
        except (TypeError, ValueError, IndexError):
            dpi = None
    xmp = im.info.get("xmp")
    return Metadata(
        icc_profile=im.info.get("icc_profile") or None,
        xmp=xmp.encode("utf-8") if isinstance(xmp, str) else xmp,
        dpi=dpi,
        text=text,
        tiff_tags=tiff_tags,
        tiff_compression=im.info.get("compression") if im.format == "TIFF" else None,
        jpeg_qtables=qtables,
        jpeg_subsampling=sampling,
        webp_lossless=fmt == "WEBP" and _webp_is_lossless(path),
    )


def _is_deep_color(im: Any, path: Path) -> bool:
    """True for 16-bit PNG files with colour or alpha, which Pillow would reduce to 8 bits (TIFFs: ``tiff``)."""
    if im.format == "PNG":
        with open(path, "rb") as f:
            head = f.read(26)
        return len(head) == 26 and head[12:16] == b"IHDR" and head[24] == 16 and head[25] in (2, 4, 6)
    return False


def _webp_is_lossless(path: Path) -> bool:
    """Walk the RIFF chunks of a WebP file: lossless files hold a ``VP8L`` chunk, lossy ones ``VP8 ``."""
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    pos = 12
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if tag == b"VP8L":
            return True
        if tag == b"VP8 ":
            return False
        pos += 8 + size + (size & 1)
    return False


def _to_array(im: Any, path: Path, icc: bytes | None) -> tuple[np.ndarray, bytes | None]:
    """Convert a Pillow image to ``H×W×C`` uint8/uint16 and the ICC profile that now applies."""
    mode = im.mode
    if mode == "CMYK":
        return _cmyk_to_rgb(im, icc)
    has_key = "transparency" in im.info
    conversions = {
        "1": "L",
        "P": "RGBA" if has_key else "RGB",
        "PA": "RGBA",
        "La": "LA",
        "RGBa": "RGBA",
        "RGBX": "RGB",
        "YCbCr": "RGB",
        "L": "LA" if has_key else "L",
        "RGB": "RGBA" if has_key else "RGB",
    }
    if mode in conversions and conversions[mode] != mode:
        im = im.convert(conversions[mode])
        mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        arr = np.asarray(im)
    elif mode.startswith("I;16"):
        arr = np.asarray(im).astype(np.uint16)
    elif mode == "F":  # 32-bit float gray that tifffile could not parse but Pillow could
        arr = np.asarray(im, dtype=np.float32)
    elif mode == "I":
        arr = np.asarray(im)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise FileProblem(path, "32-bit integer pixels are not supported (kdsharp handles 8- and 16-bit images)")
        arr = arr.astype(np.uint16)
    else:
        raise FileProblem(path, f"unsupported colour mode {mode} (kdsharp handles gray, RGB, palette, CMYK and float gray/RGB TIFF)")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return np.ascontiguousarray(arr), icc


def _cmyk_to_rgb(im: Any, icc: bytes | None) -> tuple[np.ndarray, bytes | None]:
    """CMYK -> RGB through its ICC profile when it has one (the output is then tagged sRGB)."""
    if icc:
        try:
            from PIL import ImageCms

            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            source = ImageCms.ImageCmsProfile(__import__("io").BytesIO(icc))
            rgb = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
            return np.asarray(rgb), srgb.tobytes()
        except Exception:  # a broken or non-CMYK profile: fall back to Pillow's naive conversion
            pass
    return np.asarray(im.convert("RGB")), None


def to_8bit(pixels: np.ndarray) -> np.ndarray:
    """uint16 or float (0–1, clipped) -> uint8 with rounding (65535 -> 255, 1.0 -> 255); uint8 passes through."""
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype.kind == "f":
        return (np.clip(pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)


def to_16bit(pixels: np.ndarray) -> np.ndarray:
    """float (0–1, clipped) -> uint16 with rounding; integer pixels pass through."""
    if pixels.dtype.kind != "f":
        return pixels
    return (np.clip(pixels, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)


def write_image(pixels: np.ndarray, path: Path, fmt: str, metadata: Metadata, *, quality: int | None = None) -> None:
    """Write pixels to ``path`` in ``fmt`` with the metadata this format can hold.

    Args:
        pixels: ``H×W×C`` uint8, uint16 or float32, C in {1, 2, 3, 4}. Float pixels stay float
            in a TIFF; other formats get them clipped to 0–1, at 16 bits in PNG, 8 elsewhere.
        path: the file to create (normally a temporary sibling from ``atomic_output``).
        fmt: a key of ``WRITE_FORMATS``.
        metadata: carried from the source.
        quality: JPEG/WebP quality 1–100; ``None`` keeps a JPEG source's
            quantisation tables (else 95) and a lossless WebP source lossless (else 90).

    Raises:
        FileProblem: the format cannot hold these pixels (JPEG with alpha).
        OSError: writing failed.
    """
    channels = pixels.shape[2]
    if fmt == "JPEG" and channels in (2, 4):
        raise FileProblem(path, "JPEG cannot store transparency; choose --format png, webp or tiff")
    if fmt == "TIFF" and (pixels.dtype.kind == "f" or (pixels.dtype == np.uint16 and channels >= 2)):
        from kdsharp.cli import tiff

        tiff.write(pixels.astype(np.float32) if pixels.dtype.kind == "f" else pixels, path, metadata)
        return
    if pixels.dtype.kind == "f":
        pixels = to_16bit(pixels) if fmt == "PNG" else to_8bit(pixels)
    if pixels.dtype == np.uint16 and channels >= 2 and fmt == "PNG":
        from kdsharp.cli import deep_color

        deep_color.write(pixels, path, fmt, metadata)
        return
    if pixels.dtype == np.uint16 and fmt not in ("PNG", "TIFF"):
        pixels = to_8bit(pixels)
    im = from_array(pixels)
    if fmt in ("BMP", "GIF") and im.mode == "LA":
        im = im.convert("RGBA")
    im.save(path, format=fmt, **_save_options(fmt, metadata, quality))


def from_array(pixels: np.ndarray) -> Any:
    """``H×W×C`` uint8 (C 1–4) or uint16 (C 1) -> a Pillow image (L, LA, RGB, RGBA or I;16)."""
    Image = _pillow()
    if pixels.dtype == np.uint16:
        return Image.fromarray(np.ascontiguousarray(pixels[:, :, 0]))
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
    data = pixels[:, :, 0] if mode == "L" else pixels
    return Image.fromarray(np.ascontiguousarray(data), mode=mode) if mode != "L" else Image.fromarray(np.ascontiguousarray(data))


def _save_options(fmt: str, metadata: Metadata, quality: int | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if metadata.icc_profile:
        options["icc_profile"] = metadata.icc_profile
    if metadata.dpi:
        options["dpi"] = metadata.dpi
    if metadata.exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options["exif"] = metadata.exif
    if metadata.xmp and fmt in ("JPEG", "WEBP"):
        options["xmp"] = metadata.xmp
    if fmt == "JPEG":
        if quality is not None:
            options["quality"] = quality
        elif metadata.jpeg_qtables:
            options["qtables"] = metadata.jpeg_qtables
            if metadata.jpeg_subsampling >= 0:
                options["subsampling"] = metadata.jpeg_subsampling
        else:
            options["quality"] = _DEFAULT_JPEG_QUALITY
    elif fmt == "WEBP":
        if quality is None and metadata.webp_lossless:
            options["lossless"] = True
        else:
            options["quality"] = quality if quality is not None else _DEFAULT_WEBP_QUALITY
    elif fmt == "PNG" and metadata.text:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        for key, value in metadata.text.items():
            info.add_text(key, value)
        options["pnginfo"] = info
    elif fmt == "TIFF":
        compression = metadata.tiff_compression
        options["compression"] = compression if compression in _TIFF_KEEP_COMPRESSION else "tiff_lzw"
        if metadata.tiff_tags:
            options["tiffinfo"] = dict(metadata.tiff_tags)
    return options
