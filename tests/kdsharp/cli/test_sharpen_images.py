"""``kdsharp sharpen``: formats, bit depths, channels, colour modes and kept metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from kdsharp import Sharpener

from image_files import load, noise, save, sharpen_one, srgb_icc


class TestFormatsAndChannels:
    @pytest.mark.parametrize(
        ("name", "channels"),
        [
            ("rgb.png", 3),
            ("rgba.png", 4),
            ("gray.png", 1),
            ("graya.png", 2),
            ("rgb.tif", 3),
            ("rgba.tif", 4),
            ("rgb.bmp", 3),
            ("gray.bmp", 1),
        ],
    )
    def test_lossless_8bit_equals_core(self, cli, model_args, core: Sharpener, tmp_path: Path, name: str, channels: int) -> None:
        pixels = noise((23, 31, channels))
        src = save(pixels, tmp_path / name)
        dst = tmp_path / "out" / name
        sharpen_one(cli, model_args, src, dst)
        out = load(dst)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, core.sharpen(pixels))
        if channels in (2, 4):
            np.testing.assert_array_equal(out[:, :, -1], pixels[:, :, -1])

    @pytest.mark.parametrize("name", ["gray16.png", "gray16.tif"])
    def test_16bit_gray_stays_16bit(self, cli, model_args, core: Sharpener, tmp_path: Path, name: str) -> None:
        pixels = noise((19, 26, 1), np.uint16)
        src = save(pixels, tmp_path / name)
        dst = tmp_path / "out" / name
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.mode.startswith("I;16")
        np.testing.assert_array_equal(load(dst).astype(np.uint16), core.sharpen(pixels))

    @pytest.mark.parametrize(("suffix", "channels"), [(".png", 3), (".png", 4), (".tif", 3)])
    def test_16bit_colour_stays_16bit(self, cli, model_args, core: Sharpener, tmp_path: Path, suffix: str, channels: int) -> None:
        pixels = noise((17, 22, channels), np.uint16)
        src = tmp_path / f"deep{suffix}"
        code = cv2.COLOR_RGB2BGR if channels == 3 else cv2.COLOR_RGBA2BGRA
        assert cv2.imwrite(str(src), cv2.cvtColor(pixels, code))
        dst = tmp_path / "out" / src.name
        sharpen_one(cli, model_args, src, dst)
        out = cv2.cvtColor(cv2.imread(str(dst), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB if channels == 3 else cv2.COLOR_BGRA2RGBA)
        assert out.dtype == np.uint16
        np.testing.assert_array_equal(out, core.sharpen(pixels))

    def test_16bit_colour_png_keeps_icc_dpi_and_text(self, cli, model_args, tmp_path: Path) -> None:
        src = tmp_path / "deep.png"
        cv2.imwrite(str(src), noise((9, 12, 3), np.uint16))
        # Add metadata to OpenCV's file with the same chunk writer the CLI uses, then check Pillow reads it back.
        from kdsharp.cli import deep_color
        from kdsharp.cli.metadata import Metadata

        src.write_bytes(
            deep_color.add_png_metadata(src.read_bytes(), Metadata(icc_profile=srgb_icc(), dpi=(300.0, 300.0), text={"Title": "deep"}))
        )
        dst = tmp_path / "out.png"
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.info["icc_profile"] == srgb_icc()
            assert im.info["dpi"] == pytest.approx((300, 300), abs=0.1)
            assert im.text["Title"] == "deep"

    def test_palette_becomes_rgb(self, cli, model_args, core: Sharpener, tmp_path: Path) -> None:
        rgb = Image.fromarray(noise((20, 24, 3)))
        src = tmp_path / "pal.png"
        rgb.quantize(16).save(src)
        dst = tmp_path / "out.png"
        sharpen_one(cli, model_args, src, dst)
        with Image.open(src) as im:
            expected = core.sharpen(np.asarray(im.convert("RGB")))
        with Image.open(dst) as im:
            assert im.mode == "RGB"
        np.testing.assert_array_equal(load(dst), expected)

    def test_palette_with_transparency_becomes_rgba(self, cli, model_args, tmp_path: Path) -> None:
        im = Image.fromarray(noise((20, 24, 3))).quantize(8)
        src = tmp_path / "pal_t.png"
        im.save(src, transparency=0)
        dst = tmp_path / "out.png"
        sharpen_one(cli, model_args, src, dst)
        with Image.open(src) as original:
            alpha = np.asarray(original.convert("RGBA"))[:, :, 3]
        out = load(dst)
        assert out.shape[2] == 4
        np.testing.assert_array_equal(out[:, :, 3], alpha)

    @pytest.mark.parametrize("name", ["cmyk.jpg", "cmyk.tif"])
    def test_cmyk_becomes_rgb(self, cli, model_args, core: Sharpener, tmp_path: Path, name: str) -> None:
        src = tmp_path / name
        Image.fromarray(noise((16, 20, 4)), mode="CMYK").save(src)
        dst = tmp_path / "out" / name
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.mode == "RGB"
            assert im.size == (20, 16)
        if name.endswith(".tif"):
            with Image.open(src) as im:
                expected = core.sharpen(np.asarray(im.convert("RGB")))
            np.testing.assert_array_equal(load(dst), expected)

    def test_bilevel_becomes_gray(self, cli, model_args, tmp_path: Path) -> None:
        src = tmp_path / "bw.png"
        Image.fromarray(noise((12, 16)) > 127).save(src)
        dst = tmp_path / "out.png"
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.mode == "L"

    def test_webp_lossless_stays_lossless(self, cli, model_args, core: Sharpener, tmp_path: Path) -> None:
        pixels = noise((18, 21, 3))
        src = save(pixels, tmp_path / "a.webp", lossless=True)
        dst = tmp_path / "out.webp"
        sharpen_one(cli, model_args, src, dst)
        np.testing.assert_array_equal(load(dst), core.sharpen(pixels))

    def test_format_option_converts(self, cli, model_args, tmp_path: Path) -> None:
        src = save(noise((10, 12, 3)), tmp_path / "a.jpg")
        result = cli("sharpen", src, "-o", tmp_path / "out", "--format", "png", *model_args)
        assert result.code == 0, result.err
        with Image.open(tmp_path / "out" / "a.png") as im:
            assert im.format == "PNG"

    def test_output_suffix_picks_format(self, cli, model_args, tmp_path: Path) -> None:
        src = save(noise((10, 12, 3)), tmp_path / "a.png")
        sharpen_one(cli, model_args, src, tmp_path / "b.tiff")
        with Image.open(tmp_path / "b.tiff") as im:
            assert im.format == "TIFF"

    def test_alpha_to_jpeg_is_refused_in_one_line(self, cli, model_args, tmp_path: Path) -> None:
        src = save(noise((10, 12, 4)), tmp_path / "a.png")
        result = cli("sharpen", src, "-o", tmp_path / "a.jpg", *model_args)
        assert result.code == 1
        assert (
            result.err.strip() == f"kdsharp: error: {tmp_path / 'a.jpg'}: JPEG cannot store transparency; choose --format png, webp or tiff"
        )
        assert not (tmp_path / "a.jpg").exists()


class TestMetadata:
    def test_exif_orientation_is_applied_and_reset(self, cli, model_args, core: Sharpener, tmp_path: Path) -> None:
        pixels = noise((12, 20, 3))
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90° clockwise to display
        exif[0x010F] = "kdsharp-test-camera"
        src = save(pixels, tmp_path / "rot.png", exif=exif)
        dst = tmp_path / "out.png"
        sharpen_one(cli, model_args, src, dst)
        upright = np.ascontiguousarray(np.rot90(pixels, k=-1))
        out = load(dst)
        assert out.shape == (20, 12, 3)
        np.testing.assert_array_equal(out, core.sharpen(upright))
        with Image.open(dst) as im:
            written = im.getexif()
        assert written.get(0x0112, 1) == 1
        assert written[0x010F] == "kdsharp-test-camera"

    @pytest.mark.parametrize(
        ("source", "target"), [("rot.tif", "out.tif"), ("rot.tif", "out.jpg"), ("rot.jpg", "out.jpg"), ("rot.jpg", "out.webp")]
    )
    def test_exif_travels_with_sub_ifds_but_without_orientation(self, cli, model_args, tmp_path: Path, source: str, target: str) -> None:
        exif = Image.Exif()
        exif[0x0112] = 6
        exif[0x010F] = "kdsharp-test-camera"
        exif.get_ifd(0x8769)[0x9003] = "2020:01:01 10:00:00"  # DateTimeOriginal, in the Exif sub-IFD
        src = save(noise((10, 30, 3)), tmp_path / source, exif=exif)
        dst = tmp_path / target
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.size == (10, 30)
            written = im.getexif()
            assert written.get(0x0112, 1) == 1
            assert written[0x010F] == "kdsharp-test-camera"
            if source.endswith(".jpg"):  # Pillow's TIFF writer drops the Exif sub-IFD of the source itself
                assert written.get_ifd(0x8769)[0x9003] == "2020:01:01 10:00:00"
            assert (written.get(256), written.get(257)) in ((None, None), (10, 30))  # no stale TIFF layout tags

    def test_jpeg_exif_orientation(self, cli, model_args, tmp_path: Path) -> None:
        exif = Image.Exif()
        exif[0x0112] = 8
        src = save(noise((10, 30, 3)), tmp_path / "rot.jpg", exif=exif)
        dst = tmp_path / "out.jpg"
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.size == (10, 30)
            assert im.getexif().get(0x0112, 1) == 1

    @pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.tif", "a.webp"])
    def test_icc_profile_and_dpi_kept(self, cli, model_args, tmp_path: Path, name: str) -> None:
        icc = srgb_icc()
        options: dict[str, Any] = {"icc_profile": icc}
        if not name.endswith(".webp"):
            options["dpi"] = (240, 240)
        src = save(noise((14, 15, 3)), tmp_path / name, **options)
        dst = tmp_path / "out" / name
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.info.get("icc_profile") == icc
            if "dpi" in options:
                assert im.info["dpi"] == pytest.approx((240, 240), abs=0.1)

    def test_png_text_kept(self, cli, model_args, tmp_path: Path) -> None:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "keep me")
        src = save(noise((8, 8, 3)), tmp_path / "t.png", pnginfo=info)
        dst = tmp_path / "out.png"
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.text["Comment"] == "keep me"

    def test_jpeg_keeps_its_quality_tables_unless_told(self, cli, model_args, tmp_path: Path) -> None:
        src = save(noise((32, 32, 3)), tmp_path / "q.jpg", quality=60)
        kept, set_quality = tmp_path / "kept.jpg", tmp_path / "q30.jpg"
        sharpen_one(cli, model_args, src, kept)
        sharpen_one(cli, model_args, src, set_quality, "--quality", "30")
        with Image.open(src) as a, Image.open(kept) as b, Image.open(set_quality) as c:
            assert b.quantization == a.quantization
            assert c.quantization != a.quantization

    def test_tiff_text_tags_kept(self, cli, model_args, tmp_path: Path) -> None:
        src = save(noise((8, 9, 3)), tmp_path / "d.tif", tiffinfo={270: "a description"}, compression="tiff_lzw")
        dst = tmp_path / "out.tif"
        sharpen_one(cli, model_args, src, dst)
        with Image.open(dst) as im:
            assert im.tag_v2[270] == "a description"
            assert im.info["compression"] == "tiff_lzw"


class TestGif:
    def test_single_frame_gif_is_sharpened_like_a_palette_png(self, cli, model_args, core: Sharpener, tmp_path: Path) -> None:
        src = tmp_path / "still.gif"
        Image.fromarray(noise((20, 24, 3))).convert("P").save(src)
        with Image.open(src) as im:
            expected = core.sharpen(np.asarray(im.convert("RGB")))
        folder = tmp_path / "out"
        result = cli("sharpen", src, "-o", folder, *model_args)
        assert result.code == 0, result.err
        with Image.open(folder / "still.gif") as out:
            assert out.format == "GIF"
            got = np.asarray(out.convert("RGB")).astype(int)
        assert np.abs(got - expected).mean() < 12  # GIF keeps 256 colours: close, not exact
        png = tmp_path / "still.png"
        assert cli("sharpen", src, "-o", png, *model_args).code == 0
        np.testing.assert_array_equal(load(png), expected)

    def test_animated_gif_is_refused_like_animated_webp(self, cli, model_args, tmp_path: Path) -> None:
        frames = [Image.fromarray(noise((16, 16, 3), seed=i)) for i in range(3)]
        messages = []
        for name in ("anim.gif", "anim.webp"):
            frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:])
            result = cli("sharpen", tmp_path / name, "-o", tmp_path / "out", *model_args)
            assert result.code == 1
            messages.append(result.err.strip().replace(name, "NAME"))
        assert messages[0] == messages[1] and "has 3 frames" in messages[0]
