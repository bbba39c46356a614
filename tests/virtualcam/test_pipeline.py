"""The pipe, in process: a real FFV1 video or TCP stream in, the core, a real ``pyvirtualcam.Camera`` out.

The camera sends into the capture backend (``capture_backend.py``), registered
with ``pyvirtualcam.register_backend``; every frame sent is compared with what
the core makes of the source frame.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from pyvirtualcam import PixelFormat

import capture_backend
from streams import free_port, stream_server
from kdsharp import RuntimeConfig, RuntimeFailure, Sharpener
from kdsharp_cam import pixel_formats
from kdsharp_cam.pipeline import (
    ENDED,
    FAILED,
    FRAME_LIMIT,
    LOST,
    STOPPED,
    CameraOutput,
    Pipe,
    PipeSettings,
    RecordOutput,
    StepDown,
)
from kdsharp_cam.errors import SourceError
from kdsharp_cam.pictures import I420, RGB, join_i420, split_i420
from kdsharp_cam.recording import Recorder
from kdsharp_cam.sources import VideoSource, parse_source
from kdsharp_cam.virtual_camera import open_camera

CPU = RuntimeConfig(providers=("CPUExecutionProvider",), threads=1)


@pytest.fixture(scope="module")
def sharpener(tiny_model: Path) -> Sharpener:
    return Sharpener(model=tiny_model, config=CPU)


class SlowSharpener(Sharpener):
    """The real core, made slower than the source on purpose."""

    delay = 0.08

    def sharpen(self, image: np.ndarray, *, strength: float = 1.0) -> np.ndarray:
        time.sleep(self.delay)
        return super().sharpen(image, strength=strength)


def wait_until(condition, timeout: float = 20.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


def run_pipe(
    source_text: str,
    core: Sharpener,
    capture_dir: Path,
    *,
    fmt: PixelFormat = PixelFormat.RGB,
    settings: PipeSettings | None = None,
    realtime: bool = False,
    fps: float = 1000.0,
    record: Path | None = None,
    during=None,
    step_down: StepDown | None = None,
    notify=lambda message: None,
) -> tuple[Pipe, capture_backend.Capture]:
    """Run a pipe from ``source_text`` into the capture backend until it ends; ``during(pipe)`` runs meanwhile."""
    settings = settings or PipeSettings()
    source = VideoSource(parse_source(source_text), realtime=realtime)
    deadline = time.monotonic() + 10
    while True:  # a stream server needs a moment before it listens
        try:
            source.open()
            break
        except SourceError:
            assert time.monotonic() < deadline, f"cannot open {source_text}"
            time.sleep(0.05)
    first = source.read()
    width, height = source.size
    out_size = (2 * width if settings.side_by_side else width, height)
    camera = open_camera(*out_size, fps, fmt, device=str(capture_dir), backend=capture_backend.NAME)
    outputs = [CameraOutput(camera)]
    if record is not None:
        outputs.append(RecordOutput(Recorder(record, out_size, 25.0)))
    pipe = Pipe(source, core, outputs, settings, notify=notify, step_down=step_down)
    try:
        pipe.start(first)
        if during is not None:
            during(pipe)
        wait_until(lambda: pipe.done)
    finally:
        pipe.join()
        for output in outputs:
            output.close()
        source.close()
    assert pipe.failure is None, pipe.failure
    return pipe, capture_backend.read_capture(capture_dir)


def index_of(original: np.ndarray, frames: list[np.ndarray]) -> int:
    """Which source frame ``original`` is (frames of a pan are all different)."""
    matches = [i for i, frame in enumerate(frames) if np.array_equal(frame, original)]
    assert len(matches) == 1, "sent frame does not match exactly one source frame"
    return matches[0]


class TestFileSource:
    @pytest.mark.parametrize("name", sorted(pixel_formats.PIXEL_FORMATS))
    def test_every_frame_is_the_core_output_in_the_pixel_format(self, name, pan_video, sharpener, capture_dir) -> None:
        fmt = pixel_formats.PIXEL_FORMATS[name]
        pipe, capture = run_pipe(str(pan_video.path), sharpener, capture_dir, fmt=fmt)
        assert pipe.end_reason == ENDED
        assert capture.closed
        assert (capture.width, capture.height, capture.format) == (96, 64, fmt)
        assert len(capture.frames) == len(pan_video.frames) == pipe.stats.sent
        assert pipe.stats.dropped == 0
        for sent, source_frame in zip(capture.frames, pan_video.frames, strict=True):
            core = sharpener.sharpen(source_frame)
            assert not np.array_equal(core, source_frame)  # the model really changes the frame
            assert np.array_equal(sent, pixel_formats.from_rgb(core, fmt))
        if fmt is PixelFormat.RGB:
            assert capture.frames[0].shape == (64, 96, 3)
        if fmt is PixelFormat.BGR:
            assert np.array_equal(capture.frames[0][..., ::-1], sharpener.sharpen(pan_video.frames[0]))

    @pytest.mark.parametrize("fmt", [PixelFormat.I420, PixelFormat.NV12])
    def test_luma_model_sharpens_the_y_plane_in_video_levels(self, fmt, pan_video, tiny_luma_model, capture_dir) -> None:
        luma = Sharpener(model=tiny_luma_model, config=CPU)
        pipe, capture = run_pipe(str(pan_video.path), luma, capture_dir, fmt=fmt, settings=PipeSettings(strength=1.5))
        assert pipe.layout == I420 and pipe.luma_planes
        assert len(capture.frames) == len(pan_video.frames)
        for sent, source_frame in zip(capture.frames, pan_video.frames, strict=True):
            y, u, v = split_i420(cv2.cvtColor(cv2.cvtColor(source_frame, cv2.COLOR_RGB2BGR), cv2.COLOR_BGR2YUV_I420))
            (sharp_y,) = luma.sharpen_planes([y], strength=1.5, limited_range=True)
            assert not np.array_equal(sharp_y, y)
            assert np.array_equal(sent, pixel_formats.from_i420(join_i420(sharp_y, u, v), fmt))
        # the Y'CbCr path and the RGB path of the core agree up to 4:2:0 chroma and rounding
        via_rgb = cv2.cvtColor(luma.sharpen(pan_video.frames[0], strength=1.5), cv2.COLOR_RGB2YUV_I420)
        i420 = capture.frames[0] if fmt is PixelFormat.I420 else None
        if i420 is not None:
            diff = np.abs(split_i420(i420)[0].astype(int) - split_i420(via_rgb)[0])
            # (only where RGB clipping at 0/255 differs from the kept video headroom do they part more)
            assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 3

    def test_luma_model_side_by_side_in_i420(self, pan_video, tiny_luma_model, capture_dir) -> None:
        luma = Sharpener(model=tiny_luma_model, config=CPU)
        settings = PipeSettings(side_by_side=True)
        pipe, capture = run_pipe(str(pan_video.path), luma, capture_dir, fmt=PixelFormat.I420, settings=settings)
        assert pipe.layout == I420 and capture.width == 2 * 96
        for sent, source_frame in zip(capture.frames, pan_video.frames, strict=True):
            source_i420 = cv2.cvtColor(cv2.cvtColor(source_frame, cv2.COLOR_RGB2BGR), cv2.COLOR_BGR2YUV_I420)
            (sharp_y,) = luma.sharpen_planes([split_i420(source_i420)[0]], limited_range=True)
            y, u, v = split_i420(sent)
            sy, su, sv = split_i420(source_i420)
            assert np.array_equal(y[:, :96], sy) and np.array_equal(y[:, 96:], sharp_y)
            assert np.array_equal(u[:, :48], su) and np.array_equal(u[:, 48:], su)
            assert np.array_equal(v[:, :48], sv) and np.array_equal(v[:, 48:], sv)

    def test_rgb_layout_is_kept_for_rgb_cameras_and_rgb_models(self, pan_video, tiny_luma_model, sharpener, capture_dir) -> None:
        luma = Sharpener(model=tiny_luma_model, config=CPU)
        pipe, capture = run_pipe(str(pan_video.path), luma, capture_dir, fmt=PixelFormat.RGB)
        assert pipe.layout == RGB
        assert np.array_equal(capture.frames[3], luma.sharpen(pan_video.frames[3]))
        pipe, _ = run_pipe(str(pan_video.path), sharpener, capture_dir, fmt=PixelFormat.I420)
        assert pipe.layout == RGB

    def test_side_by_side_and_strength(self, pan_video, sharpener, capture_dir) -> None:
        settings = PipeSettings(side_by_side=True, strength=0.5)
        _, capture = run_pipe(str(pan_video.path), sharpener, capture_dir, settings=settings)
        assert capture.width == 2 * 96 and len(capture.frames) == len(pan_video.frames)
        for sent, source_frame in zip(capture.frames, pan_video.frames, strict=True):
            assert np.array_equal(sent[:, :96], source_frame)
            assert np.array_equal(sent[:, 96:], sharpener.sharpen(source_frame, strength=0.5))

    def test_output_is_paced_to_the_camera_fps(self, pan_video, sharpener, capture_dir) -> None:
        pipe, capture = run_pipe(str(pan_video.path), sharpener, capture_dir, fps=50.0)
        span = capture.times[-1] - capture.times[0]
        assert len(capture.frames) == 24
        assert span >= 0.85 * 23 / 50  # unpaced, 24 tiny frames take a few milliseconds

    def test_toggle_passes_frames_through_unsharpened(self, pan_video, sharpener, capture_dir) -> None:
        def switch_off(pipe: Pipe) -> None:
            wait_until(lambda: pipe.stats.sent >= 1)  # the output is paced at 50 fps: most frames are still to come
            assert pipe.toggle() is False

        pipe, capture = run_pipe(str(pan_video.path), sharpener, capture_dir, fps=50.0, during=switch_off)
        assert len(capture.frames) == len(pan_video.frames)
        sharpened = [not np.array_equal(sent, src) for sent, src in zip(capture.frames, pan_video.frames, strict=True)]
        # sharpened until the switch flipped (frames already past inference stay sharpened), then passed through
        assert sharpened[0] and sharpened == sorted(sharpened, reverse=True)
        assert sharpened.count(False) >= 12

    def test_frame_limit(self, pan_video, sharpener, capture_dir) -> None:
        pipe, capture = run_pipe(str(pan_video.path), sharpener, capture_dir, settings=PipeSettings(max_frames=5))
        assert pipe.end_reason == FRAME_LIMIT and len(capture.frames) == 5


class FailingSharpener(Sharpener):
    """The real core, until onnxruntime "fails" on the fifth frame."""

    calls = 0

    def sharpen(self, image: np.ndarray, *, strength: float = 1.0) -> np.ndarray:
        self.calls += 1
        if self.calls == 5:
            raise RuntimeFailure("onnxruntime failed on frame 5")
        return super().sharpen(image, strength=strength)


class TestCoreFailure:
    def test_a_core_error_stops_the_pipe_and_is_handed_over(self, pan_video, tiny_model, capture_dir) -> None:
        source = VideoSource(parse_source(str(pan_video.path)))
        source.open()
        camera = open_camera(96, 64, 1000.0, PixelFormat.RGB, device=str(capture_dir), backend=capture_backend.NAME)
        pipe = Pipe(source, FailingSharpener(model=tiny_model, config=CPU), [CameraOutput(camera)])
        pipe.start(source.read())
        wait_until(lambda: pipe.done)
        assert pipe.join()
        camera.close()
        source.close()
        assert isinstance(pipe.failure, RuntimeFailure) and pipe.end_reason == FAILED
        capture = capture_backend.read_capture(capture_dir)
        # Frames 0-3 were sharpened; a finished frame still queued when the error stops the pipe is not sent.
        assert capture.closed and len(capture.frames) in (3, 4)


class TestDropOldest:
    def test_slow_core_drops_oldest_frames_and_latency_stays_bounded(
        self, long_video, tiny_model, sharpener, capture_dir
    ) -> None:
        slow = SlowSharpener(model=tiny_model, config=CPU)
        settings = PipeSettings(side_by_side=True, max_frames=60)
        pipe, capture = run_pipe(str(long_video.path), slow, capture_dir, settings=settings, realtime=True)
        stats = pipe.stats
        assert pipe.end_reason == FRAME_LIMIT
        assert stats.captured == 60
        assert stats.sent + stats.dropped == stats.captured == len(capture.frames) + stats.dropped
        # 60 frames at 50 fps last 1.2 s; at 80 ms a frame the core keeps up with about a third.
        assert 5 <= stats.sent <= 30
        indices = [index_of(sent[:, :96], long_video.frames) for sent in capture.frames]
        assert indices == sorted(set(indices))
        assert indices[-1] == 59  # the newest frame always gets through
        for sent, i in zip(capture.frames, indices, strict=True):
            assert np.array_equal(sent[:, 96:], sharpener.sharpen(long_video.frames[i]))
        # Without dropping, the last frame would wait for ~45 earlier ones (seconds).
        assert max(stats.all_latencies) < 0.45
        assert 0.08 <= float(np.median(stats.all_latencies)) < 0.3

    def test_queue_size_two_is_bounded_too(self, long_video, tiny_model, capture_dir) -> None:
        slow = SlowSharpener(model=tiny_model, config=CPU)
        settings = PipeSettings(queue_size=2, max_frames=40)
        pipe, capture = run_pipe(str(long_video.path), slow, capture_dir, settings=settings, realtime=True)
        assert pipe.stats.sent + pipe.stats.dropped == 40
        assert pipe.stats.dropped >= 15
        assert max(pipe.stats.all_latencies) < 0.6


class TestStepDown:
    def test_waits_for_patience_then_steps_and_resets_when_caught_up(self) -> None:
        ladder = StepDown("max", ["quality", "fast"], lambda rung: None, frame_seconds=0.04, patience=2.0)  # type: ignore[arg-type,return-value]
        assert not ladder.due(10.0, 0.05) and not ladder.due(11.5, 0.05)
        assert not ladder.due(11.6, 0.03)  # caught up: the clock starts again
        assert not ladder.due(12.0, 0.06) and ladder.due(14.0, 0.06)
        assert not StepDown("fast", [], lambda rung: None, 0.04).due(0.0, 1.0)  # type: ignore[arg-type,return-value]

    def test_a_live_pipe_falling_behind_steps_down_a_rung_and_says_so(self, long_video, tiny_model, sharpener, capture_dir) -> None:
        slow = SlowSharpener(model=tiny_model, config=CPU)
        loaded: list[str] = []
        told: list[str] = []

        def load(rung: str) -> Sharpener:
            loaded.append(rung)
            return Sharpener(model=tiny_model, config=CPU)

        ladder = StepDown("quality", ["fast"], load, frame_seconds=1 / 50, patience=0.3)
        settings = PipeSettings(side_by_side=True, max_frames=60)
        pipe, capture = run_pipe(str(long_video.path), slow, capture_dir, settings=settings, realtime=True,
                                 step_down=ladder, notify=told.append)
        assert loaded == ["fast"] and ladder.current == "fast" and ladder.cheaper == []
        assert pipe.stats.model == "fast (stepped down from quality)"
        assert pipe.stats.snapshot(True).line().endswith("| model fast (stepped down from quality)")
        assert len(told) == 1 and "stepped down from quality to fast" in told[0] and "20.0 ms" in told[0]
        # After the step the core keeps up: most of the rest get through, each the core's output.
        indices = [index_of(sent[:, :96], long_video.frames) for sent in capture.frames]
        assert indices == sorted(set(indices)) and indices[-1] == 59
        for sent, i in zip(capture.frames, indices, strict=True):
            assert np.array_equal(sent[:, 96:], sharpener.sharpen(long_video.frames[i]))
        assert pipe.stats.sent > 20


class TestStreamSource:
    def test_stream_dying_mid_way_stops_cleanly(self, long_video, sharpener, capture_dir) -> None:
        port = free_port()
        server = stream_server(long_video.path, port)
        try:
            url = f"tcp://127.0.0.1:{port}"

            def kill_after_some_frames(pipe: Pipe) -> None:
                wait_until(lambda: len(capture_backend.frame_files(capture_dir)) >= 8)
                server.kill()

            pipe, capture = run_pipe(
                url, sharpener, capture_dir, settings=PipeSettings(side_by_side=True), during=kill_after_some_frames
            )
        finally:
            server.kill()
            server.wait()
        assert pipe.end_reason == LOST
        assert capture.closed
        assert 8 <= len(capture.frames) < len(long_video.frames)
        indices = [index_of(sent[:, :96], long_video.frames) for sent in capture.frames]
        assert indices == sorted(set(indices))
        for sent, i in zip(capture.frames, indices, strict=True):
            assert np.array_equal(sent[:, 96:], sharpener.sharpen(long_video.frames[i]))

    def test_reconnect_resumes_when_the_stream_comes_back(self, long_video, sharpener, capture_dir) -> None:
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        servers: list[subprocess.Popen] = []

        def start_server() -> None:
            servers.append(stream_server(long_video.path, port))

        def drop_and_restore(pipe: Pipe) -> None:
            wait_until(lambda: len(capture_backend.frame_files(capture_dir)) >= 5)
            servers[0].kill()
            before = len(capture_backend.frame_files(capture_dir))
            time.sleep(0.3)
            start_server()
            wait_until(lambda: len(capture_backend.frame_files(capture_dir)) >= before + 5)
            assert not pipe.done
            pipe.stop()

        start_server()
        try:
            settings = PipeSettings(side_by_side=True, reconnect=True, reconnect_delay=0.1)
            pipe, capture = run_pipe(url, sharpener, capture_dir, settings=settings, during=drop_and_restore)
        finally:
            for server in servers:
                server.kill()
                server.wait()
        assert pipe.end_reason == STOPPED and capture.closed
        indices = [index_of(sent[:, :96], long_video.frames) for sent in capture.frames]
        restarts = [k for k in range(1, len(indices)) if indices[k] < indices[k - 1]]
        assert len(restarts) == 1  # frames from the first connection, then from the second
        assert indices[restarts[0]] < 15
