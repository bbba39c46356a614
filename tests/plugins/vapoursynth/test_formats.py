"""kdsharp_vs.formats: which formats are taken, range properties, exact sample conversions."""

from __future__ import annotations

import numpy as np
import pytest
import vapoursynth as vs

from kdsharp_vs.formats import FormatError, codec_for, frame_full_range, integer_scale

pytestmark = pytest.mark.vapoursynth

core = vs.core


class TestCodecFor:
    @pytest.mark.parametrize(
        ("fmt", "planes", "native_full"),
        [
            (vs.RGB24, (0, 1, 2), True),
            (vs.RGB30, (0, 1, 2), False),
            (vs.RGB48, (0, 1, 2), True),
            (vs.RGBS, (0, 1, 2), True),
            (vs.RGBH, (0, 1, 2), True),
            (vs.GRAY8, (0,), True),
            (vs.GRAY12, (0,), False),
            (vs.YUV420P8, (0,), True),
            (vs.YUV422P14, (0,), False),
            (vs.YUV444PS, (0,), True),
        ],
    )
    def test_supported(self, fmt: vs.PresetVideoFormat, planes: tuple[int, ...], native_full: bool) -> None:
        codec = codec_for(core.get_video_format(fmt))
        assert codec.planes == planes
        assert (codec.scale(full_range=True) is None) == native_full
        if codec.sample_type == vs.INTEGER:
            assert codec.scale(full_range=False) is not None  # limited range is always converted

    def test_variable_format(self) -> None:
        a = core.std.BlankClip(format=vs.YUV420P8, length=1)
        clip = core.std.Splice([a, core.std.BlankClip(format=vs.RGB24, length=1)], mismatch=True)
        with pytest.raises(FormatError, match="variable format"):
            codec_for(clip.format)

    def test_deep_integers(self) -> None:
        with pytest.raises(FormatError, match="(?i)gray32 has 32-bit integer samples"):
            codec_for(core.get_video_format(vs.GRAY32))


class TestRangeProps:
    @pytest.mark.parametrize(
        ("props", "default", "full"),
        [
            ({}, True, True),
            ({}, False, False),
            ({"_Range": 1}, False, True),
            ({"_Range": 0}, True, False),
            ({"_ColorRange": 0}, False, True),
            ({"_ColorRange": 1}, True, False),
        ],
    )
    def test_frame_full_range(self, props: dict, default: bool, full: bool) -> None:
        assert frame_full_range(props, default) is full

    def test_range_read_from_real_frames(self) -> None:
        clip = core.std.BlankClip(format=vs.YUV420P8, length=1)
        for full in (True, False):
            marked = core.resize.Point(
                clip, format=vs.YUV444P8, matrix_in_s="709", range_s="full" if full else "limited"
            )
            assert frame_full_range(marked.get_frame(0).props, default=not full) is full


class TestExactRoundTrip:
    @pytest.mark.parametrize("bits", [8, 9, 10, 12, 14, 16])
    @pytest.mark.parametrize("full", [True, False])
    def test_every_code_comes_back(self, bits: int, full: bool) -> None:
        fmt = core.query_video_format(vs.GRAY, vs.INTEGER, bits, 0, 0)
        codec = codec_for(fmt)
        codes = np.arange(1 << bits, dtype=np.uint16 if bits > 8 else np.uint8).reshape(1, -1)
        values = codec.to_core([codes], full)
        back = np.empty_like(codes)
        codec.from_core(values.copy(), [back], full)
        np.testing.assert_array_equal(back, codes)

    @pytest.mark.parametrize("bits", [8, 10, 16])
    def test_limited_range_maps_16_235_to_0_1(self, bits: int) -> None:
        scale = integer_scale(bits, full_range=False)
        shift = 1 << (bits - 8)
        assert (16 * shift - scale.offset) / scale.span == 0.0
        assert (235 * shift - scale.offset) / scale.span == 1.0
        assert scale.full == (1 << bits) - 1

    def test_native_rgb_planes_go_to_the_core_as_they_are(self) -> None:
        codec = codec_for(core.get_video_format(vs.RGB24))
        r, g, b = (np.full((2, 3), v, np.uint8) for v in (1, 2, 3))
        planes = codec.to_core([r, g, b], True)
        assert len(planes) == 3 and all(p is q for p, q in zip(planes, (r, g, b)))
