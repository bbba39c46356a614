"""RGB to the virtual camera's pixel formats: layout, sizes and content."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pyvirtualcam import PixelFormat
from pyvirtualcam.camera import FrameShapes
from skimage import data

from kdsharp_cam import pixel_formats

PHOTO = np.ascontiguousarray(data.astronaut()[100:220, 80:240])  # 120×160 RGB

BACK_TO_RGB = {
    PixelFormat.I420: cv2.COLOR_YUV2RGB_I420,
    PixelFormat.NV12: cv2.COLOR_YUV2RGB_NV12,
    PixelFormat.YUYV: cv2.COLOR_YUV2RGB_YUY2,
    PixelFormat.UYVY: cv2.COLOR_YUV2RGB_UYVY,
}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


class TestFromRgb:
    @pytest.mark.parametrize("name", sorted(pixel_formats.PIXEL_FORMATS))
    def test_size_matches_pyvirtualcam(self, name: str) -> None:
        fmt = pixel_formats.PIXEL_FORMATS[name]
        out = pixel_formats.from_rgb(PHOTO, fmt)
        expected = FrameShapes[fmt](PHOTO.shape[1], PHOTO.shape[0])
        assert out.dtype == np.uint8
        assert (out.size == expected) if isinstance(expected, int) else (out.shape == expected)

    def test_rgb_is_unchanged(self) -> None:
        assert np.array_equal(pixel_formats.from_rgb(PHOTO, PixelFormat.RGB), PHOTO)

    def test_bgr_swaps_channels(self) -> None:
        assert np.array_equal(pixel_formats.from_rgb(PHOTO, PixelFormat.BGR), PHOTO[..., ::-1])

    @pytest.mark.parametrize("fmt", list(BACK_TO_RGB))
    def test_yuv_decodes_back_to_the_photo(self, fmt: PixelFormat) -> None:
        back = cv2.cvtColor(pixel_formats.from_rgb(PHOTO, fmt), BACK_TO_RGB[fmt])
        assert back.shape == PHOTO.shape
        assert psnr(back, PHOTO) > 30

    def test_nv12_interleaves_the_i420_chroma_planes(self) -> None:
        h, w = PHOTO.shape[:2]
        i420 = pixel_formats.from_rgb(PHOTO, PixelFormat.I420).reshape(-1)
        nv12 = pixel_formats.from_rgb(PHOTO, PixelFormat.NV12).reshape(-1)
        luma, quarter = h * w, h * w // 4
        assert np.array_equal(nv12[:luma], i420[:luma])
        assert np.array_equal(nv12[luma::2], i420[luma : luma + quarter])
        assert np.array_equal(nv12[luma + 1 :: 2], i420[luma + quarter :])


class TestCheckSize:
    def test_odd_sizes_are_refused_for_subsampled_formats(self) -> None:
        assert "even width" in pixel_formats.check_size(PixelFormat.YUYV, 161, 120)
        assert "even height" in pixel_formats.check_size(PixelFormat.I420, 160, 121)
        assert pixel_formats.check_size(PixelFormat.YUYV, 160, 121) is None
        assert pixel_formats.check_size(PixelFormat.RGB, 161, 121) is None
