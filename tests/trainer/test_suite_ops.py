"""The suite's own resampling and JPEG agree with the libraries they stand apart from."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from kdsharp_train import suite_ops
from PIL import Image


def _photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.random((24, 32, 3)) * 255
    img = cv2.resize(base.astype(np.float32), (256, 192), interpolation=cv2.INTER_CUBIC)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).round().astype(np.float64)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


@pytest.mark.parametrize(
    ("kernel", "aa", "flag"),
    [("box", True, cv2.INTER_AREA), ("triangle", False, cv2.INTER_LINEAR), ("cubic075", False, cv2.INTER_CUBIC)],
)
def test_shrinking_matches_opencv(kernel: str, aa: bool, flag: int) -> None:
    img = _photo()
    ours = suite_ops.resample(img, 96, 128, kernel, antialias=aa)
    theirs = cv2.resize(img.astype(np.float32), (128, 96), interpolation=flag)
    assert _psnr(ours, theirs) > 60


@pytest.mark.parametrize(("kernel", "flag"), [("cubic", Image.Resampling.BICUBIC), ("lanczos3", Image.Resampling.LANCZOS)])
def test_antialiased_shrinking_matches_pillow(kernel: str, flag: Image.Resampling) -> None:
    img = _photo()
    ours = suite_ops.resample(img, 64, 85, kernel)
    theirs = np.stack([np.asarray(Image.fromarray(img[..., c].astype(np.float32)).resize((85, 64), flag)) for c in range(3)], 2)
    assert _psnr(ours, theirs) > 60


def test_enlarging_matches_opencv_cubic() -> None:
    small = _photo()[::2, ::2]
    ours = suite_ops.resample(small, 192, 256, "cubic075")
    theirs = cv2.resize(small.astype(np.float32), (256, 192), interpolation=cv2.INTER_CUBIC)
    assert _psnr(ours, theirs) > 60


def test_unknown_kernel_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kernel 'nearest'"):
        suite_ops.resample(_photo(), 10, 10, "nearest")


@pytest.mark.parametrize(("quality", "subsampling"), [(20, "4:2:0"), (50, "4:4:4"), (85, "4:2:0")])
def test_jpeg_loss_matches_libjpeg(quality: int, subsampling: str) -> None:
    img = _photo()
    ours = suite_ops.jpeg(img, quality, subsampling)
    buf = io.BytesIO()
    Image.fromarray(img.astype(np.uint8)).save(buf, "JPEG", quality=quality, subsampling=0 if subsampling == "4:4:4" else 2)
    theirs = np.asarray(Image.open(buf)).astype(np.float64)
    # Same loss as libjpeg (its integer DCT rounds differently, which flips a few coefficients at low
    # quality), far closer to it than either is to the photo.
    assert _psnr(ours, theirs) > 36 and _psnr(ours, theirs) > _psnr(theirs, img) + 2
    assert abs(_psnr(ours, img) - _psnr(theirs, img)) < 0.5
    assert ours.min() >= 0 and ours.max() <= 255 and np.array_equal(ours, ours.round())


def test_jpeg_of_gray_and_quality_order() -> None:
    img = _photo()[..., :1]
    q20, q90 = suite_ops.jpeg(img, 20), suite_ops.jpeg(img, 90)
    assert q20.shape == img.shape and _psnr(q90, img) > _psnr(q20, img)
    assert suite_ops.quant_table(suite_ops.LUMA_Q, 50)[0, 0] == 16  # quality 50 is the Annex K table itself
    with pytest.raises(ValueError, match="4:2:0 or 4:4:4"):
        suite_ops.jpeg(_photo(), 50, "4:2:2")
