"""Image files for the command-line tests: noise pictures, saving and loading them, one sharpen call."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageCms


def noise(shape: tuple[int, ...], dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    full = 65535 if dtype == np.uint16 else 255
    return (rng.random(shape) * full).astype(dtype)


def save(arr: np.ndarray, path: Path, **options: Any) -> Path:
    data = arr[:, :, 0] if arr.ndim == 3 and arr.shape[2] == 1 else arr
    Image.fromarray(np.ascontiguousarray(data)).save(path, **options)
    return path


def load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        arr = np.asarray(im)
    return arr[:, :, None] if arr.ndim == 2 else arr


@cache
def srgb_icc() -> bytes:
    """One sRGB profile per test run: lcms stamps each new profile with the current second, so two builds
    either side of a second differ in their header (CI failed on exactly that)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def sharpen_one(cli: Any, model_args: tuple[str, ...], src: Path, dst: Path, *extra: str) -> None:
    result = cli("sharpen", src, "-o", dst, *model_args, *extra)
    assert result.code == 0, result.err
    assert dst.is_file()
