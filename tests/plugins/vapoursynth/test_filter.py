"""kdsharp_vs.sharpen in a real VapourSynth core: every format against the core, identity, props, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import vapoursynth as vs

import kdsharp_vs
from kdsharp import RuntimeConfig, Sharpener

pytestmark = pytest.mark.vapoursynth

core = vs.core

RGB_FORMATS = [vs.RGB24, vs.RGB30, vs.RGB48, vs.RGBS, vs.RGBH]
GRAY_FORMATS = [vs.GRAY8, vs.GRAY16, vs.GRAYS]
YUV_FORMATS = [vs.YUV420P8, vs.YUV420P10, vs.YUV422P8, vs.YUV422P16, vs.YUV444P8, vs.YUV444P12, vs.YUV444PS]
ALL_FORMATS = RGB_FORMATS + GRAY_FORMATS + YUV_FORMATS
SOURCES = ["photo", "blank"]


def fmt_id(fmt: Any) -> str:
    return vs.core.get_video_format(fmt).name


@pytest.fixture(scope="module")
def reference(tiny_model: Path) -> Sharpener:
    """The core on its own, to compare with."""
    return Sharpener(tiny_model, config=RuntimeConfig(threads=1))


@pytest.fixture
def source(request: pytest.FixtureRequest, photo_clip: Callable, blank_clip: Callable) -> Callable[[Any], Any]:
    return photo_clip if request.param == "photo" else blank_clip


def planes(frame: vs.VideoFrame, indices: tuple[int, ...]) -> list[np.ndarray]:
    return [np.array(frame[p]) for p in indices]


def assert_matches_core(
    fmt: Any, src: vs.VideoFrame, out: vs.VideoFrame, core_sharpener: Sharpener, strength: float
) -> None:
    """Output planes equal the core's result on the same frame, within the format's quantisation."""
    fmt = core.get_video_format(fmt)
    sharpened = (0, 1, 2) if fmt.color_family == vs.RGB else (0,)
    image = np.stack(planes(src, sharpened), axis=-1)
    got = np.stack(planes(out, sharpened), axis=-1)
    if fmt.sample_type == vs.FLOAT or (fmt.color_family != vs.YUV and fmt.bits_per_sample in (8, 16)):
        np.testing.assert_array_equal(got, core_sharpener.sharpen(image, strength=strength))
    else:  # 9-15 bits, or Y' in limited range (the clips say so or say nothing): the core reads the codes
        levels = {"limited_range": fmt.color_family == vs.YUV, "bits": fmt.bits_per_sample}
        expected = core_sharpener.sharpen_planes(list(np.moveaxis(image, -1, 0)), strength=strength, **levels)
        np.testing.assert_array_equal(got, np.stack(expected, axis=-1))
    if fmt.color_family == vs.YUV:  # luma mode leaves chroma alone, bit for bit
        for p in (1, 2):
            np.testing.assert_array_equal(np.asarray(out[p]), np.asarray(src[p]))


class TestAgainstCore:
    @pytest.mark.parametrize("source", SOURCES, indirect=True)
    @pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
    def test_equals_core(self, source: Callable, fmt: Any, tiny_model: Path, reference: Sharpener) -> None:
        clip = source(fmt)
        out = kdsharp_vs.sharpen(clip, 1.0, tiny_model, threads=1)
        assert (out.format.id, out.width, out.height, out.num_frames) == (clip.format.id, clip.width, clip.height, 3)
        assert (out.fps, out.fps_num) == (clip.fps, clip.fps_num)
        for n in range(clip.num_frames):
            assert_matches_core(fmt, clip.get_frame(n), out.get_frame(n), reference, 1.0)

    @pytest.mark.parametrize("fmt", [vs.RGB24, vs.YUV420P10], ids=fmt_id)
    def test_strength_is_passed_on(
        self, photo_clip: Callable, fmt: Any, tiny_model: Path, reference: Sharpener
    ) -> None:
        clip = photo_clip(fmt)
        out = kdsharp_vs.sharpen(clip, strength=1.7, model=tiny_model)
        assert_matches_core(fmt, clip.get_frame(1), out.get_frame(1), reference, 1.7)

    def test_sharpening_changes_photos(self, photo_clip: Callable, tiny_model: Path) -> None:
        clip = photo_clip(vs.RGB24)
        out = kdsharp_vs.sharpen(clip, 1.0, tiny_model)
        diff = np.abs(np.asarray(out.get_frame(0)[1]).astype(int) - np.asarray(clip.get_frame(0)[1]))
        assert diff.mean() > 1.0

    @pytest.mark.parametrize("fmt", [vs.RGB24, vs.GRAY16, vs.YUV420P8], ids=fmt_id)
    def test_luma_model(self, photo_clip: Callable, fmt: Any, tiny_luma_model: Path) -> None:
        clip = photo_clip(fmt)
        out = kdsharp_vs.sharpen(clip, 1.0, str(tiny_luma_model))
        assert_matches_core(fmt, clip.get_frame(2), out.get_frame(2), Sharpener(tiny_luma_model), 1.0)


class TestIdentity:
    @pytest.mark.parametrize("mode", kdsharp_vs.MODES)
    @pytest.mark.parametrize("source", SOURCES, indirect=True)
    @pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
    def test_strength_zero(self, source: Callable, fmt: Any, mode: str, tiny_model: Path) -> None:
        clip = source(fmt)
        out = kdsharp_vs.sharpen(clip, 0.0, tiny_model, mode=mode)
        for n in range(clip.num_frames):
            src, got = clip.get_frame(n), out.get_frame(n)
            for p in range(clip.format.num_planes):
                np.testing.assert_array_equal(np.asarray(got[p]), np.asarray(src[p]))


class TestRgbMode:
    """YUV through core.resize to RGBS and back, with the clip's matrix and range."""

    @staticmethod
    def expected(clip: vs.VideoNode, reference: Sharpener, matrix: int, full: bool) -> vs.VideoNode:
        """resize to RGBS, the core, resize back; frame props set first since resize prefers them to arguments."""
        clip = core.std.SetFrameProps(clip, _Matrix=matrix, _Range=int(full))
        rgb = core.resize.Spline36(clip, format=vs.RGBS)

        def run_core(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
            out = f.copy()
            result = reference.sharpen(np.stack([np.asarray(f[p]) for p in range(3)], axis=-1))
            for p in range(3):
                np.copyto(np.asarray(out[p]), result[:, :, p])
            return out

        sharpened = core.std.ModifyFrame(rgb, rgb, run_core)
        return core.resize.Spline36(
            sharpened, format=clip.format.id, matrix=matrix, range_s="full" if full else "limited"
        )

    @staticmethod
    def assert_same(a: vs.VideoNode, b: vs.VideoNode) -> None:
        for n in range(a.num_frames):
            fa, fb = a.get_frame(n), b.get_frame(n)
            for p in range(a.format.num_planes):
                np.testing.assert_array_equal(np.asarray(fa[p]), np.asarray(fb[p]))

    @pytest.mark.parametrize("fmt", [vs.YUV420P8, vs.YUV422P10, vs.YUV444P16], ids=fmt_id)
    def test_honours_frame_props(self, photo_clip: Callable, fmt: Any, tiny_model: Path, reference: Sharpener) -> None:
        # The samples were made as BT.709 limited; the props now claim BT.470BG full, and must win.
        clip = core.std.SetFrameProps(photo_clip(fmt), _Matrix=5, _Range=1)
        out = kdsharp_vs.sharpen(clip, 1.0, tiny_model, mode="rgb")
        self.assert_same(out, self.expected(clip, reference, 5, True))
        assert not np.array_equal(np.asarray(out.get_frame(0)[1]), np.asarray(clip.get_frame(0)[1]))

    def test_arguments_override_props(self, photo_clip: Callable, tiny_model: Path, reference: Sharpener) -> None:
        clip = core.std.SetFrameProps(photo_clip(vs.YUV420P8), _Matrix=5, _Range=1)
        out = kdsharp_vs.sharpen(clip, 1.0, tiny_model, mode="rgb", matrix="709", range="limited")
        self.assert_same(out, self.expected(clip, reference, 1, False))

    def test_unspecified_matrix_defaults_by_size(self, photo_clip: Callable, tiny_model: Path) -> None:
        clip = core.std.RemoveFrameProps(photo_clip(vs.YUV420P8), ["_Matrix", "_Range", "_ColorRange"])
        guessed = kdsharp_vs.sharpen(clip, 1.0, tiny_model, mode="rgb")
        self.assert_same(guessed, kdsharp_vs.sharpen(clip, 1.0, tiny_model, mode="rgb", matrix="170m", range="limited"))

    def test_rgb_matrix_prop_on_yuv_is_refused(self, photo_clip: Callable, tiny_model: Path) -> None:
        clip = core.std.SetFrameProps(photo_clip(vs.YUV420P8), _Matrix=0)
        with pytest.raises(vs.Error, match=r"^kdsharp_vs\.sharpen: .*_Matrix says RGB"):
            kdsharp_vs.sharpen(clip, 1.0, tiny_model, mode="rgb")


class TestFrameProps:
    @pytest.mark.parametrize("mode", kdsharp_vs.MODES)
    @pytest.mark.parametrize("fmt", [vs.RGB30, vs.GRAY8, vs.YUV420P8, vs.YUV444PS], ids=fmt_id)
    @pytest.mark.parametrize("source", SOURCES, indirect=True)
    def test_preserved(self, source: Callable, fmt: Any, mode: str, tiny_model: Path) -> None:
        # Photo clips carry resize's colour props; blank clips carry none, and must not gain any.
        clip = core.std.SetFrameProps(source(fmt), kdsharp_marker=7, _SARNum=4, _SARDen=3, _FieldBased=0)
        out = kdsharp_vs.sharpen(clip, 1.0, tiny_model, mode=mode)
        for n in range(clip.num_frames):
            assert dict(out.get_frame(n).props) == dict(clip.get_frame(n).props)

    def test_range_prop_read_per_frame(self, photo_clip: Callable, tiny_model: Path, reference: Sharpener) -> None:
        # GRAY8 marked limited: luma codes 16-235 are 0-1 for the core, so the result differs from full range.
        clip = core.std.SetFrameProps(photo_clip(vs.GRAY8), _Range=0)
        out = np.asarray(kdsharp_vs.sharpen(clip, 1.0, tiny_model).get_frame(0)[0])
        gray = np.asarray(clip.get_frame(0)[0])
        (limited,) = reference.sharpen_planes([gray], limited_range=True)
        np.testing.assert_array_equal(out, limited)
        assert not np.array_equal(out, reference.sharpen_planes([gray])[0])
        # as the core does for video levels, overshoot is kept in the foot- and headroom
        assert out.min() < 16 or out.max() > 235


class TestStreams:
    @pytest.mark.parametrize("length", [1, 2, 3, 7, 12])
    def test_lanes_keep_frame_order_and_length(self, photo_clip: Callable, tiny_model: Path, length: int) -> None:
        clip = core.std.Loop(photo_clip(vs.YUV420P8), times=4)[:length]
        numbered = core.std.ModifyFrame(clip, clip, lambda n, f: _numbered(n, f))
        out = kdsharp_vs.sharpen(numbered, 1.0, tiny_model, num_streams=2)
        assert (out.num_frames, out.fps) == (length, clip.fps)
        assert [f.props["kdsharp_index"] for f in out.frames()] == list(range(length))
        assert [dict(f.props) for f in out.frames()] == [dict(f.props) for f in numbered.frames()]

    def test_two_streams_give_the_same_frames(self, photo_clip: Callable, tiny_model: Path) -> None:
        clip = photo_clip(vs.RGB24) * 4
        one = kdsharp_vs.sharpen(clip, 1.0, tiny_model)
        two = kdsharp_vs.sharpen(clip, 1.0, tiny_model, num_streams=2)
        # frames() keeps several requests in flight, so VapourSynth's threads call the filter at once.
        for a, b in zip(one.frames(prefetch=6), two.frames(prefetch=6), strict=True):
            for p in range(3):
                np.testing.assert_array_equal(np.asarray(a[p]), np.asarray(b[p]))

    def test_tiles_are_seamless(self, photo_clip: Callable, tiny_model: Path) -> None:
        clip = photo_clip(vs.RGBS)
        whole = kdsharp_vs.sharpen(clip, 1.0, tiny_model, tile=0).get_frame(0)
        tiled = kdsharp_vs.sharpen(clip, 1.0, tiny_model, tile=40).get_frame(0)
        for p in range(3):
            np.testing.assert_allclose(np.asarray(tiled[p]), np.asarray(whole[p]), atol=1e-5)


def _numbered(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
    out = f.copy()
    out.props["kdsharp_index"] = n
    return out


def _variable_size() -> vs.VideoNode:
    a = core.std.BlankClip(format=vs.YUV420P8, width=64, height=48, length=2)
    return core.std.Splice([a, core.std.BlankClip(format=vs.YUV420P8, width=32, height=32, length=2)], mismatch=True)


def _variable_format() -> vs.VideoNode:
    a = core.std.BlankClip(format=vs.YUV420P8, width=64, height=48, length=2)
    return core.std.Splice([a, core.std.BlankClip(format=vs.RGB24, width=64, height=48, length=2)], mismatch=True)


class TestErrors:
    @pytest.mark.parametrize(
        ("make", "words"),
        [
            (_variable_size, "variable frame size"),
            (_variable_format, "variable format"),
            (lambda: core.std.BlankClip(format=vs.GRAY32, width=16, height=16), "32-bit integer"),
            (lambda: core.std.BlankAudio(), "must be a video clip"),
            (lambda: np.zeros((8, 8, 3), np.uint8), "must be a video clip"),
        ],
        ids=["variable-size", "variable-format", "gray32-int", "audio", "ndarray"],
    )
    def test_unsupported_clip(self, make: Callable, words: str, tiny_model: Path) -> None:
        with pytest.raises(vs.Error, match=r"^kdsharp_vs\.sharpen: .*" + words):
            kdsharp_vs.sharpen(make(), 1.0, tiny_model)

    @pytest.mark.parametrize(
        ("kwargs", "words"),
        [
            ({"strength": -0.5}, "strength must be"),
            ({"strength": 2.5}, "strength must be"),
            ({"strength": float("nan")}, "strength must be"),
            ({"strength": "1"}, "strength must be"),
            ({"mode": "chroma"}, "mode must be one of"),
            ({"matrix": "bt709"}, "matrix must be one of"),
            ({"matrix": 0}, "matrix must be one of"),
            ({"range": "tv"}, "range must be"),
            ({"num_streams": 0}, "num_streams must be"),
            ({"tile": -1}, "tile must be"),
            ({"tile": 8}, "tile 8 is too small"),
            ({"threads": 0}, "threads must be"),
            ({"providers": ["NoSuchExecutionProvider"]}, "none of the requested providers"),
            ({"providers": 3}, "providers must be"),
            ({"model": "/nonexistent/model.onnx"}, "model not found"),
            ({"model": 42}, "model must be"),
        ],
        ids=lambda v: str(v) if isinstance(v, dict) else None,
    )
    def test_bad_argument(self, blank_clip: Callable, tiny_model: Path, kwargs: dict, words: str) -> None:
        args = {"strength": 1.0, "model": tiny_model, **kwargs}
        with pytest.raises(vs.Error, match=r"^kdsharp_vs\.sharpen: .*" + words):
            kdsharp_vs.sharpen(blank_clip(vs.YUV420P8), **args)

    def test_corrupt_model(self, blank_clip: Callable, tmp_path: Path, tiny_model: Path) -> None:
        broken = tmp_path / "broken.onnx"
        data = bytearray(tiny_model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        broken.write_bytes(bytes(data))
        with pytest.raises(vs.Error, match=r"^kdsharp_vs\.sharpen: .*checksum mismatch"):
            kdsharp_vs.sharpen(blank_clip(vs.RGB24), 1.0, broken)

    def test_bad_frame_is_a_frame_error(self, blank_clip: Callable, tiny_model: Path) -> None:
        nan = core.std.Expr(blank_clip(vs.RGBS) * 3, "0 0 /")
        out = kdsharp_vs.sharpen(nan, 1.0, tiny_model, num_streams=2)
        for n in (1, 5, 7):  # frame numbers of the clip, not of a lane
            with pytest.raises(vs.Error, match=rf"kdsharp_vs\.sharpen: frame {n}: .*NaN"):
                out.get_frame(n)


class TestAuto:
    def test_default_is_the_timed_choice_with_one_line_of_why(self, photo_clip: Callable, capfd: pytest.CaptureFixture[str]) -> None:
        from kdsharp import ladder

        clip = core.std.AssumeFPS(photo_clip(vs.YUV420P8), fpsnum=25, fpsden=1)
        out = kdsharp_vs.sharpen(clip, providers="CPUExecutionProvider", threads=1)
        said = [line for line in capfd.readouterr().err.splitlines() if "model auto:" in line]
        assert len(said) == 1 and said[0].startswith("kdsharp_vs: model auto: ") and "at 25 fps" in said[0]
        rung = said[0].split("model auto: ")[1].split()[0].rstrip(",")
        assert rung in ladder.installed_rungs()
        rung_core = Sharpener(rung, config=RuntimeConfig(threads=1))
        assert_matches_core(vs.YUV420P8, clip.get_frame(0), out.get_frame(0), rung_core, 1.0)

    def test_variable_rate_clips_aim_for_30_fps_and_streams_share_the_rate(self, photo_clip: Callable, capfd: pytest.CaptureFixture[str]) -> None:
        rgb = photo_clip(vs.RGB24)
        clip = core.std.Splice([core.std.AssumeFPS(rgb, fpsnum=25), core.std.AssumeFPS(rgb, fpsnum=24)], mismatch=True)
        assert clip.fps.numerator == 0  # a variable frame rate
        kdsharp_vs.sharpen(clip, model="auto", providers="CPUExecutionProvider", threads=1, num_streams=2)
        err = capfd.readouterr().err
        assert "at 15 fps" in err and "[30 fps over 2 streams]" in err
