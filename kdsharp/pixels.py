"""Pixel value conversions between image dtypes and the network's 0–1 floats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kdsharp.errors import InputError

#: dtype -> the value that means "full" (1.0 in the network's range).
FULL_SCALE: dict[np.dtype, float] = {
    np.dtype(np.uint8): 255.0,
    np.dtype(np.uint16): 65535.0,
    np.dtype(np.float32): 1.0,
    np.dtype(np.float16): 1.0,
}

#: BT.601 luma weights on sRGB-encoded values, as the ``luma`` colour space defines.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class Levels:
    """How sample values map to the network's 0–1: ``network = (sample - offset) / span``.

    Full range has ``offset = 0`` and ``span = full``; limited ("video", "TV")
    range puts black at 16 and white at 235 on 8 bits (×256 on 16 bits), as
    BT.601/709 Y'CbCr luma does. Results are always clamped to ``0..full``, so
    a limited-range result may keep footroom and headroom values.
    """

    offset: float
    span: float
    full: float


def levels(dtype: np.dtype, limited_range: bool = False, bits: int | None = None) -> Levels:
    """The ``Levels`` of ``dtype`` samples, full or limited range.

    Args:
        dtype: the samples' dtype.
        limited_range: video levels (16–235 on 8 bits, scaled by ``2**(bits - 8)``).
        bits: significant bits of integer samples (``None``: all of the dtype's);
            9–16 for 10- or 12-bit video held in uint16.

    Raises:
        InputError: limited range or ``bits`` asked of a float dtype (floats are
            always 0–1), or ``bits`` that the dtype cannot hold.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        if limited_range or bits is not None:
            what = "limited range applies" if limited_range else "bits applies"
            raise InputError(f"{what} to integer samples, not {dtype}")
        return Levels(0.0, FULL_SCALE[dtype], FULL_SCALE[dtype])
    width = dtype.itemsize * 8
    if bits is None:
        bits = width
    lowest = 8 if width == 8 else 9
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not lowest <= bits <= width:
        allowed = f"{width}" if width == 8 else f"an integer from {lowest} to {width}"
        raise InputError(f"bits must be {allowed} for {dtype} samples, not {bits!r}")
    bits = int(bits)
    full = float((1 << bits) - 1)
    if not limited_range:
        return Levels(0.0, full, full)
    shift = bits - 8
    return Levels(float(16 << shift), float(219 << shift), full)


def check_image(image: object) -> np.ndarray:
    """Validate an image array and return it as ``H×W×C`` (a view).

    Accepts ``H×W`` (gray) or ``H×W×C`` with C = 1 (gray), 2 (gray+alpha),
    3 (RGB) or 4 (RGBA); dtype uint8, uint16, float32 or float16.

    Raises:
        InputError: naming what is wrong.
    """
    if not isinstance(image, np.ndarray):
        raise InputError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype not in FULL_SCALE:
        raise InputError(f"image dtype must be uint8, uint16, float32 or float16, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise InputError(f"image must be H×W×C, got shape {image.shape}")
    h, w, c = image.shape
    if h < 1 or w < 1:
        raise InputError(f"image must be at least 1×1, got {h}×{w}")
    if c not in (1, 2, 3, 4):
        raise InputError(f"image must have 1, 2, 3 or 4 channels (gray, gray+alpha, RGB, RGBA), got {c}")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise InputError("image contains NaN or infinite values")
    return image


def quantize(values: np.ndarray, dtype: np.dtype, scale: Levels | None = None) -> np.ndarray:
    """Turn contiguous 0–1 float32 planes into ``dtype``, rounding and clamping.

    ``values`` is overwritten (it is a scratch buffer in the core). ``scale``
    gives the sample levels (default: full range). Returns a new array of
    ``dtype`` with the same shape.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        np.clip(values, 0.0, 1.0, out=values)
        return values.astype(dtype, copy=False)
    scale = scale or levels(dtype)
    values *= np.float32(scale.span)
    values += np.float32(scale.offset + 0.5)
    np.clip(values, 0.0, np.float32(scale.full), out=values)
    return values.astype(dtype)
