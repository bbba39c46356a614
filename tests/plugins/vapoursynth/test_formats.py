"""kdsharp_vs.formats: which formats are taken, range properties, how the core is told to read samples."""

from __future__ import annotations

import pytest
import vapoursynth as vs

from kdsharp_vs.formats import FormatError, codec_for, frame_full_range

pytestmark = pytest.mark.vapoursynth

core = vs.core


class TestCodecFor:
    @pytest.mark.parametrize(
        ("fmt", "planes", "bits"),
        [
            (vs.RGB24, (0, 1, 2), 8),
            (vs.RGB30, (0, 1, 2), 10),
            (vs.RGB48, (0, 1, 2), 16),
            (vs.RGBS, (0, 1, 2), None),
            (vs.RGBH, (0, 1, 2), None),
            (vs.GRAY8, (0,), 8),
            (vs.GRAY12, (0,), 12),
            (vs.YUV420P8, (0,), 8),
            (vs.YUV422P14, (0,), 14),
            (vs.YUV444PS, (0,), None),
        ],
    )
    def test_supported(self, fmt: vs.PresetVideoFormat, planes: tuple[int, ...], bits: int | None) -> None:
        # Samples go to the core as they are; integers come with their depth and range.
        codec = codec_for(core.get_video_format(fmt))
        assert codec.planes == planes
        for full in (True, False):
            want = {} if bits is None else {"limited_range": not full, "bits": bits}
            assert codec.levels(full) == want

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
