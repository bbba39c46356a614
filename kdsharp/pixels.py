"""Pixel value conversions between image dtypes and the network's 0–1 floats."""

from __future__ import annotations

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


def quantize(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Turn contiguous 0–1 float32 planes into ``dtype``, rounding and clamping.

    ``values`` is overwritten (it is a scratch buffer in the core). Returns a
    new array of ``dtype`` with the same shape.
    """
    dtype = np.dtype(dtype)
    full = np.float32(FULL_SCALE[dtype])
    if dtype.kind == "f":
        np.clip(values, 0.0, 1.0, out=values)
        return values.astype(dtype, copy=False)
    values *= full
    values += np.float32(0.5)
    np.clip(values, 0.0, full, out=values)
    return values.astype(dtype)
