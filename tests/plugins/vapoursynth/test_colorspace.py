"""kdsharp_vs.colorspace: settling matrix, range and chroma siting for the RGB round trip."""

from __future__ import annotations

import pytest
import vapoursynth as vs

from kdsharp_vs import colorspace

pytestmark = pytest.mark.vapoursynth

core = vs.core


def yuv(width: int, height: int) -> vs.VideoNode:
    return core.std.BlankClip(format=vs.YUV420P8, width=width, height=height, length=1)


class TestResolve:
    def test_props_are_used(self) -> None:
        props = {"_Matrix": 9, "_Range": 1, "_ChromaLocation": 2}
        assert colorspace.resolve(yuv(64, 48), None, None, props) == colorspace.YuvConversion(9, True, 2)

    def test_arguments_win(self) -> None:
        props = {"_Matrix": 9, "_Range": 1}
        conversion = colorspace.resolve(yuv(64, 48), "709", "limited", props)
        assert (conversion.matrix, conversion.full_range) == (1, False)
        assert colorspace.resolve(yuv(64, 48), 5, "full", None).matrix == 5

    @pytest.mark.parametrize(
        ("width", "height", "matrix"), [(720, 576, 6), (640, 480, 6), (1280, 720, 1), (720, 720, 1)]
    )
    def test_unspecified_matrix_by_size(self, width: int, height: int, matrix: int) -> None:
        for props in ({}, {"_Matrix": 2}):
            conversion = colorspace.resolve(yuv(width, height), None, None, props)
            assert (conversion.matrix, conversion.full_range, conversion.chromaloc) == (matrix, False, 0)

    def test_rgb_matrix_refused(self) -> None:
        with pytest.raises(ValueError, match="_Matrix says RGB"):
            colorspace.resolve(yuv(64, 48), None, None, {"_Matrix": 0})

    @pytest.mark.parametrize("matrix", ["rgb", "bt709", 2, 0, 3, True, 1.0])
    def test_bad_matrix(self, matrix: object) -> None:
        with pytest.raises(ValueError, match="matrix must be one of"):
            colorspace.parse_matrix(matrix)  # type: ignore[arg-type]

    def test_every_matrix_name_is_one_resize_knows(self) -> None:
        clip = yuv(16, 16)
        for name, code in colorspace.MATRIX_NAMES.items():
            if name in ("ictcp", "2020cl", "chromacl", "chromancl"):
                continue  # need transfer/primaries too; names still match resize's spelling
            by_name = core.resize.Point(clip, format=vs.RGB24, matrix_in_s=name).get_frame(0)
            by_code = core.resize.Point(clip, format=vs.RGB24, matrix_in=code).get_frame(0)
            assert bytes(by_name[0]) == bytes(by_code[0]), name


class TestRoundTrip:
    def test_444_float_round_trip_is_near_exact(self) -> None:
        clip = core.std.BlankClip(format=vs.YUV444P16, width=32, height=16, length=1, color=[30000, 20000, 40000])
        conversion = colorspace.YuvConversion(matrix=1, full_range=False, chromaloc=0)
        back = conversion.from_rgb(conversion.to_rgb(clip), clip)
        assert back.format.id == clip.format.id
        for p in range(3):
            assert bytes(back.get_frame(0)[p]) == bytes(clip.get_frame(0)[p])
