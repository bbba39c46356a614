"""``kdsharp video``: lossless round trips through FFV1, timing kept, audio copied, bad input refused."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from kdsharp import Sharpener

RATE = Fraction(30000, 1001)
FRAMES = 6


def make_video(
    path: Path, *, frames: int = FRAMES, size: tuple[int, int] = (32, 48), pix_fmt: str = "bgr0", audio: bool = True, smooth: bool = False
) -> Path:
    """An FFV1 (lossless) video of random (or smooth) frames, with FLAC audio."""
    rng = np.random.default_rng(0)
    h, w = size
    y, x = np.mgrid[0:h, 0:w]
    with av.open(str(path), "w") as out:
        video = out.add_stream("ffv1", rate=RATE)
        video.width, video.height, video.pix_fmt = w, h, pix_fmt
        sound = None
        if audio:
            sound = out.add_stream("flac", rate=8000)
            sound.layout = "mono"
        for i in range(frames):
            if smooth:
                rgb = np.stack([x * 4 + i, y * 6, (x + y) * 3], axis=-1).clip(0, 255).astype(np.uint8)
            else:
                rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame.reformat(format=pix_fmt)))
        if sound is not None:
            for i in range(4):
                samples = (rng.standard_normal((1, 1024)) * 3000).astype(np.int16)
                chunk = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
                chunk.sample_rate, chunk.pts = 8000, i * 1024
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
        out.mux(video.encode(None))
    return path


def rgb_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def audio_payloads(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(audio=0) if p.size]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "clip.mkv")


def test_strength_0_is_lossless_identity_with_timing_and_audio(cli, model_args, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "same.mkv"
    result = cli("video", clip, "-o", out, "--codec", "ffv1", "--strength", "0", *model_args)
    assert result.code == 0, result.err
    before, after = rgb_frames(clip), rgb_frames(out)
    assert len(after) == len(before) == FRAMES
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    with av.open(str(clip)) as a, av.open(str(out)) as b:
        assert b.streams.video[0].average_rate == a.streams.video[0].average_rate == RATE
        assert [f.pts for f in b.decode(video=0)] == [f.pts for f in a.decode(video=0)]
        assert b.streams.audio[0].codec_context.name == "flac"
    assert audio_payloads(out) == audio_payloads(clip)


def test_strength_1_equals_the_core_per_frame(cli, model_args, core: Sharpener, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "sharp.mkv"
    result = cli("video", clip, "-o", out, "--codec", "ffv1", *model_args)
    assert result.code == 0, result.err
    after = rgb_frames(out)
    assert len(after) == FRAMES
    for a, b in zip(rgb_frames(clip), after):
        np.testing.assert_array_equal(b, core.sharpen(a))
    assert "frame/s" in result.err  # the progress bar shows the rate


def test_x264_mp4_with_options(cli, model_args, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "sharp.mp4"
    result = cli("video", clip, "-o", out, "--crf", "30", "--preset", "ultrafast", "--no-audio", "-q", *model_args)
    assert result.code == 0, result.err
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert not c.streams.audio
        assert sum(1 for _ in c.decode(video=0)) == FRAMES


def test_yuv_source_goes_through_rgb(cli, model_args, tmp_path: Path) -> None:
    src = make_video(tmp_path / "yuv.mkv", pix_fmt="yuv420p", audio=False, smooth=True)
    out = tmp_path / "out.mkv"
    result = cli("video", src, "-o", out, "--codec", "ffv1", "--strength", "0", *model_args)
    assert result.code == 0, result.err
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
    with av.open(str(src)) as a, av.open(str(out)) as b:
        for x, y in zip(a.decode(video=0), b.decode(video=0)):
            # One YUV -> RGB -> YUV round trip: the planes come back within rounding.
            diff = np.abs(x.to_ndarray().astype(int) - y.to_ndarray().astype(int))
            assert diff.mean() < 0.01 and diff.max() <= 1, (diff.mean(), diff.max())


class TestBadInput:
    @pytest.mark.parametrize("content", [b"", b"not a video at all" * 10])
    def test_not_a_video_is_one_line_and_writes_nothing(self, cli, model_args, tmp_path: Path, content: bytes) -> None:
        src = tmp_path / "bad.mkv"
        src.write_bytes(content)
        result = cli("video", src, "-o", tmp_path / "out.mkv", *model_args)
        assert result.code == 1
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"kdsharp: error: {src}: ")
        assert list(tmp_path.iterdir()) == [src]

    def test_missing_input(self, cli, model_args, tmp_path: Path) -> None:
        result = cli("video", tmp_path / "none.mkv", "-o", tmp_path / "out.mkv", *model_args)
        assert result.code == 1
        assert result.err.strip() == f"kdsharp: error: {tmp_path / 'none.mkv'}: no such file or directory"

    def test_truncated_video_leaves_no_output(self, cli, model_args, clip: Path, tmp_path: Path) -> None:
        cut = tmp_path / "cut.mkv"
        data = clip.read_bytes()
        cut.write_bytes(data[: len(data) // 3])
        result = cli("video", cut, "-o", tmp_path / "out.mkv", "--codec", "ffv1", *model_args)
        # FFmpeg decodes what is there: either a shorter video, or one clear line and no output.
        assert "Traceback" not in result.err
        if result.code != 0:
            assert not (tmp_path / "out.mkv").exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    def test_unknown_codec_is_a_usage_error(self, cli, model_args, clip: Path, tmp_path: Path) -> None:
        result = cli("video", clip, "-o", tmp_path / "out.mkv", "--codec", "no-such-codec", *model_args)
        assert result.code == 2
        assert "no video encoder named 'no-such-codec'" in result.err


def test_unknown_container_is_one_line(cli, model_args, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xyz"
    result = cli("video", clip, "-o", out, *model_args)
    assert result.code == 1
    assert result.err.strip().startswith(f"kdsharp: error: {out}: cannot write this container")
    assert list(tmp_path.iterdir()) == []


def test_10bit_source_stays_10bit(cli, model_args, tmp_path: Path) -> None:
    h, w = 16, 24
    y, x = np.mgrid[0:h, 0:w]
    src = tmp_path / "ten.mkv"
    with av.open(str(src), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p10le"
        for i in range(2):
            rgb = np.stack([x * 2000 + i, y * 3000, (x + y) * 1000], axis=-1).clip(0, 65535).astype(np.uint16)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb48le").reformat(format="yuv420p10le")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    dst = tmp_path / "out.mkv"
    result = cli("video", src, "-o", dst, "--codec", "ffv1", "--strength", "0", *model_args)
    assert result.code == 0, result.err
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        assert b.streams.video[0].codec_context.pix_fmt == "yuv420p10le"
        for p, q in zip(a.decode(video=0), b.decode(video=0)):
            diff = np.abs(p.to_ndarray().astype(int) - q.to_ndarray().astype(int))
            assert diff.mean() < 0.3 and diff.max() <= 4  # 10-bit units; an 8-bit RGB path would average about 1


def test_raw_stream_without_timestamps_gets_its_rate(cli, model_args, tmp_path: Path) -> None:
    raw = tmp_path / "raw.h264"  # an elementary stream: frames decode with pts None
    with av.open(str(raw), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 48, 3), i * 40, np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    dst = tmp_path / "out.mp4"
    result = cli("video", raw, "-o", dst, "-q", "--preset", "ultrafast", *model_args)
    assert result.code == 0, result.err
    with av.open(str(dst)) as c:
        stream = c.streams.video[0]
        assert stream.average_rate == 25
        times = [float(f.pts * f.time_base) for f in c.decode(video=0)]
    assert times == pytest.approx([0, 0.04, 0.08, 0.12, 0.16])


def test_default_model_is_the_timed_auto_choice_and_says_why(cli, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "auto.mkv"
    result = cli("video", clip, "-o", out, "--codec", "ffv1", "--providers", "cpu", "--threads", "1")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if "model auto:" in line]
    assert len(lines) == 1 and f"at {float(RATE):g} fps" in lines[0] and "CPUExecutionProvider" in lines[0]
    assert len(rgb_frames(out)) == FRAMES
    quiet = cli("video", clip, "-o", tmp_path / "q.mkv", "--codec", "ffv1", "--providers", "cpu", "-q")
    assert quiet.code == 0 and "model auto" not in quiet.err
