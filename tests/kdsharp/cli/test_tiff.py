"""Float and 16-bit colour TIFFs through ``kdsharp sharpen`` (tifffile): sample type, values and metadata kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from kdsharp import Sharpener
from kdsharp.cli.tiff import needs_tifffile

from image_files import noise, sharpen_one, srgb_icc


def _float(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype(np.float32)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_float_tiff_stays_float_and_equals_the_core(cli, model_args, core: Sharpener, tmp_path: Path, channels: int) -> None:
    pixels = _float((21, 30, channels))
    src = tmp_path / "f.tif"
    tifffile.imwrite(src, pixels[:, :, 0] if channels == 1 else pixels, photometric="minisblack" if channels == 1 else "rgb",
                     extrasamples=("unassalpha",) if channels == 4 else None)
    assert needs_tifffile(src)
    dst = tmp_path / "out" / "f.tif"
    sharpen_one(cli, model_args, src, dst)
    out = tifffile.imread(dst)
    out = out[:, :, None] if out.ndim == 2 else out
    assert out.dtype == np.float32 and out.shape == pixels.shape
    np.testing.assert_allclose(out, core.sharpen(pixels), atol=1e-6)
    if channels == 4:
        np.testing.assert_array_equal(out[:, :, 3], pixels[:, :, 3])


def test_float_values_outside_0_to_1_are_kept(cli, model_args, core: Sharpener, tmp_path: Path) -> None:
    pixels = _float((20, 24, 3))
    pixels[3, 4] = (4.0, -0.5, 1.5)  # an HDR highlight and a negative sample
    src = tmp_path / "hdr.tif"
    tifffile.imwrite(src, pixels, photometric="rgb")
    dst = tmp_path / "hdr-out.tif"
    sharpen_one(cli, model_args, src, dst)
    out = tifffile.imread(dst)
    clipped = np.clip(pixels, 0, 1)
    # The model sees the image clipped to 0–1; its correction lands on the original values.
    np.testing.assert_allclose(out, pixels + (core.sharpen(clipped) - clipped), atol=1e-6)
    assert out[3, 4, 0] > 3.0 and out[3, 4, 1] < 0.0


def test_float_tiff_to_png_is_16_bit_clipped(cli, model_args, tmp_path: Path) -> None:
    from PIL import Image

    src = tmp_path / "g.tif"
    tifffile.imwrite(src, _float((16, 18)) * 3.0)
    dst = tmp_path / "g.png"
    sharpen_one(cli, model_args, src, dst)
    with Image.open(dst) as im:
        assert im.mode.startswith("I;16")


def test_16bit_rgb_tiff_keeps_icc_dpi_text_and_compression(cli, model_args, core: Sharpener, tmp_path: Path) -> None:
    pixels = noise((15, 19, 3), np.uint16)
    src = tmp_path / "deep.tif"
    tifffile.imwrite(src, pixels, photometric="rgb", compression="zlib", resolution=(300, 300), resolutionunit="INCH",
                     iccprofile=srgb_icc(), description="a deep photo", metadata=None)
    dst = tmp_path / "deep-out.tif"
    sharpen_one(cli, model_args, src, dst)
    with tifffile.TiffFile(dst) as tf:
        page = tf.pages.first
        np.testing.assert_array_equal(page.asarray(), core.sharpen(pixels))
        assert page.compression.name == "ADOBE_DEFLATE"
        assert page.tags[34675].value == srgb_icc()
        assert page.tags[282].value == (300, 1) and page.description == "a deep photo"


def test_multi_page_and_nan_float_tiffs_are_refused_in_one_line(cli, model_args, tmp_path: Path) -> None:
    pages = tmp_path / "pages.tif"
    tifffile.imwrite(pages, _float((2, 16, 16)), photometric="minisblack", metadata=None)
    tifffile.imwrite(pages, _float((16, 16)), append=True)
    nan = tmp_path / "nan.tif"
    bad = _float((16, 16))
    bad[2, 2] = np.nan
    tifffile.imwrite(nan, bad)
    for src, words in ((pages, "frames; kdsharp sharpens still images"), (nan, "NaN or infinite")):
        result = cli("sharpen", src, "-o", tmp_path / "x.tif", *model_args)
        assert result.code == 1 and len(result.err.strip().splitlines()) == 1 and words in result.err
        assert not (tmp_path / "x.tif").exists()
