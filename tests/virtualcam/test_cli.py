"""``kdsharp-cam`` as a user runs it: a subprocess, real files, real signals.

Runs that need a virtual camera use the capture backend, installed in the
child before ``kdsharp_cam.cli.main`` runs (``RUNNER``); the others run the
installed console script.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from skimage import data

import capture_backend
from streams import free_port, stream_server
from kdsharp import RuntimeConfig, Sharpener

HERE = Path(__file__).parent
SCRIPT = Path(sys.executable).with_name("kdsharp-cam")
RUNNER = "import sys, capture_backend; capture_backend.install(); from kdsharp_cam.cli import main; sys.exit(main(sys.argv[1:]))"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        OMP_NUM_THREADS="1",
    )
    env.update(extra)
    return env


def kdsharp_cam(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the installed console script."""
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: pip install -e .[cam]"
    return subprocess.run(
        [str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env or child_env(), cwd=cwd
    )


def with_capture_backend(*args: str, **popen) -> subprocess.Popen:
    """Start ``kdsharp-cam`` in a child that has the capture backend registered."""
    return subprocess.Popen([sys.executable, "-c", RUNNER, *map(str, args)], env=child_env(), text=True, **popen)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def count_frames(path: Path) -> int:
    """Decode every frame of a video with PyAV."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def read_rgb(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


@pytest.fixture(scope="module")
def core(tiny_model: Path) -> Sharpener:
    return Sharpener(model=tiny_model, config=RuntimeConfig(providers=("CPUExecutionProvider",), threads=1))


class TestBadArguments:
    @pytest.mark.parametrize(
        "args, status, words",
        [
            (["--strength", "5"], 2, "must be from 0 to 2"),
            (["--resolution", "12"], 2, "WIDTHxHEIGHT"),
            (["--fps", "0"], 2, "above 0"),
            (["no-such-video.mkv"], 2, "no such file"),
            (["VIDEO", "--record", "out.txt"], 2, "unsupported suffix"),
            (["VIDEO", "--record", "VIDEO"], 2, "is the source itself"),
            (["VIDEO", "--camera", "nosuch"], 2, "no such backend"),
            (["VIDEO", "--camera", "none", "--model", "missing.onnx"], 1, "missing.onnx"),
            (
                [
                    "VIDEO",
                    "--model",
                    "MODEL",
                    "--resolution",
                    "95x64",
                    "--pixel-format",
                    "yuyv",
                    "--device",
                    "/nonexistent/video9",
                ],
                2,
                "even width",
            ),
        ],
    )
    def test_one_line_and_non_zero_exit(self, args, status, words, pan_video, tiny_model, tmp_path) -> None:
        args = [str(pan_video.path) if a == "VIDEO" else str(tiny_model) if a == "MODEL" else a for a in args]
        before = pan_video.path.read_bytes()
        result = kdsharp_cam(*args, env=child_env(), cwd=tmp_path)
        assert pan_video.path.read_bytes() == before
        assert list(tmp_path.iterdir()) == []  # nothing written
        assert result.returncode == status, result.stderr
        assert len(lines(result.stderr)) == 1, result.stderr
        assert result.stderr.startswith("kdsharp-cam: ") and words in result.stderr
        assert "Traceback" not in result.stderr

    @pytest.mark.parametrize("camera", ["auto", "v4l2loopback"])
    def test_no_loopback_device_says_how_to_load_it(self, camera, pan_video, tiny_model) -> None:
        # The real v4l2loopback backend of pyvirtualcam, pointed at a device that cannot exist.
        result = kdsharp_cam(
            pan_video.path, "--model", tiny_model, "--camera", camera, "--device", "/nonexistent/video9"
        )
        assert result.returncode == 1
        assert len(lines(result.stderr)) == 1, result.stderr
        assert 'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="kdsharp"' in result.stderr
        assert "--camera none" in result.stderr

    def test_preview_without_display_is_one_line(self, pan_video, tiny_model) -> None:
        env = {k: v for k, v in child_env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        result = kdsharp_cam(pan_video.path, "--model", tiny_model, "--camera", "none", "--preview", env=env)
        assert result.returncode == 1
        assert lines(result.stderr) == [
            "kdsharp-cam: --preview needs a display and neither DISPLAY nor WAYLAND_DISPLAY is set; run without --preview"
        ]


class TestRecord:
    def test_record_without_camera_writes_a_playable_exact_file(self, pan_video, tiny_model, core, tmp_path) -> None:
        out = tmp_path / "sharp.mkv"
        result = kdsharp_cam(pan_video.path, "--model", tiny_model, "--camera", "none", "--record", out, "--stats", "0")
        assert result.returncode == 0, result.stderr
        assert count_frames(out) == len(pan_video.frames)
        for got, source_frame in zip(read_rgb(out), pan_video.frames, strict=True):
            assert np.array_equal(got, core.sharpen(source_frame))  # FFV1 is lossless
        assert sorted(p.name for p in tmp_path.iterdir()) == ["sharp.mkv"]  # no temporary file left

    def test_default_model_is_auto_with_one_line_of_why(self, pan_video, tmp_path) -> None:
        from kdsharp import ladder

        out = tmp_path / "auto.mkv"
        result = kdsharp_cam(pan_video.path, "--camera", "none", "--record", out, "--stats", "0")
        assert result.returncode == 0, result.stderr
        said = [line for line in lines(result.stderr) if "model auto:" in line]
        assert len(said) == 1 and said[0].split("model auto: ")[1].split()[0].rstrip(",") in ladder.installed_rungs()
        assert count_frames(out) == len(pan_video.frames)

    def test_resolution_resizes_file_frames(self, pan_video, tiny_model, core, tmp_path) -> None:
        out = tmp_path / "small.mkv"
        result = kdsharp_cam(
            pan_video.path,
            "--model",
            tiny_model,
            "--camera",
            "none",
            "--record",
            out,
            "--resolution",
            "48x32",
            "--frames",
            "3",
        )
        assert result.returncode == 0, result.stderr
        got = read_rgb(out)
        assert len(got) == 3 and got[0].shape == (32, 48, 3)
        small = cv2.resize(pan_video.frames[0], (48, 32), interpolation=cv2.INTER_AREA)
        assert np.array_equal(got[0], core.sharpen(small))

    @pytest.mark.parametrize("suffix", [".avi", ".mp4"])
    def test_lossy_containers_play(self, suffix, pan_video, tiny_model, tmp_path) -> None:
        out = tmp_path / f"sharp{suffix}"
        result = kdsharp_cam(pan_video.path, "--model", tiny_model, "--camera", "none", "--record", out, "--stats", "0")
        assert result.returncode == 0, result.stderr
        assert count_frames(out) == len(pan_video.frames)


class TestLiveRun:
    def test_sigusr1_toggles_and_sigint_stops_cleanly(self, long_video, tiny_model, tmp_path, capture_dir) -> None:
        record = tmp_path / "rec" / "live.mkv"
        record.parent.mkdir()
        child = with_capture_backend(
            long_video.path, "--realtime", "--model", tiny_model, "--camera", capture_backend.NAME,
            "--device", capture_dir, "--pixel-format", "rgb", "--side-by-side", "--record", record, "--stats", "0.2",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30

            def wait_frames(n: int) -> int:
                while (have := len(capture_backend.frame_files(capture_dir))) < n:
                    assert child.poll() is None, child.communicate()[1]
                    assert time.monotonic() < deadline, "no frames"
                    time.sleep(0.02)
                return have

            wait_frames(5)
            child.send_signal(signal.SIGUSR1)
            wait_frames(wait_frames(1) + 12)
            child.send_signal(signal.SIGINT)
            _, stderr = child.communicate(timeout=15)
        finally:
            child.kill()
        assert child.returncode == 0, stderr
        assert "Traceback" not in stderr
        assert "sharpening off" in stderr and "in " in stderr and "latency" in stderr
        capture = capture_backend.read_capture(capture_dir)
        assert capture.closed  # the device was released
        sent = len(capture.frames)
        assert sent < len(long_video.frames)  # it really was interrupted
        sharpened = [not np.array_equal(f[:, :96], f[:, 96:]) for f in capture.frames]
        assert all(sharpened[:4]) and not any(sharpened[-8:])
        assert sorted(p.name for p in record.parent.iterdir()) == ["live.mkv"]
        assert count_frames(record) == sent


class TestStreams:
    def test_stream_dying_stops_with_one_line_and_a_finished_recording(
        self, long_video, tiny_model, tmp_path, capture_dir
    ) -> None:
        port = free_port()
        server = stream_server(long_video.path, port)
        out = tmp_path / "cut.mkv"
        try:
            child = with_capture_backend(
                f"tcp://127.0.0.1:{port}", "--stats", "0", "--model", tiny_model,
                "--camera", capture_backend.NAME, "--device", capture_dir, "--record", out, stderr=subprocess.PIPE,
            )  # fmt: skip
            deadline = time.monotonic() + 30
            while len(capture_backend.frame_files(capture_dir)) < 6:
                assert child.poll() is None and time.monotonic() < deadline, child.communicate()[1]
                time.sleep(0.02)
            server.kill()
            _, stderr = child.communicate(timeout=20)
        finally:
            server.kill()
            server.wait()
        assert child.returncode == 1, stderr
        assert "stopped delivering frames; use --reconnect" in stderr and "Traceback" not in stderr
        capture = capture_backend.read_capture(capture_dir)
        assert capture.closed and 6 <= len(capture.frames) < len(long_video.frames)
        assert count_frames(out) == len(capture.frames)

    def test_waits_for_a_stream_that_is_not_up_yet(self, long_video, tiny_model, tmp_path) -> None:
        port = free_port()
        out = tmp_path / "stream.mkv"
        child = subprocess.Popen(
            [str(SCRIPT), f"tcp://127.0.0.1:{port}", "--reconnect", "--model", str(tiny_model), "--camera", "none",
             "--record", str(out), "--frames", "10", "--stats", "0"],
            env=child_env(), stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        server = None
        try:
            first = child.stderr.readline()  # the server is started only once the child said it waits
            assert "waiting for it (--reconnect)" in first, first
            time.sleep(1.0)
            assert child.poll() is None  # still waiting, not failed
            server = stream_server(long_video.path, port)
            _, stderr = child.communicate(timeout=30)
        finally:
            child.kill()
            if server is not None:
                server.kill()
                server.wait()
        assert child.returncode == 0, stderr
        assert "is up" in stderr
        assert 1 <= count_frames(out) <= 10


@pytest.fixture(scope="module")
def display() -> str:
    """A real X display: the session's, or an Xvfb started for these tests."""
    if os.environ.get("DISPLAY"):
        return os.environ["DISPLAY"]
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("PREVIEW NOT TESTED: no DISPLAY and no Xvfb (apt-get install xvfb)")
    # -displayfd: Xvfb picks a free display number and writes it to our pipe when ready.
    server = subprocess.Popen(
        [xvfb, "-displayfd", "1", "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    number = server.stdout.readline().strip()
    assert number.isdigit(), "Xvfb did not start"
    yield f":{number}"
    server.terminate()
    server.wait()


class TestPreview:
    def test_window_shows_frames_and_keys_work(self, display, monkeypatch) -> None:
        from kdsharp_cam.pictures import RGB, Picture
        from kdsharp_cam.pipeline import LatestFrame
        from kdsharp_cam.preview import Preview

        monkeypatch.setenv("DISPLAY", display)
        calls: list[str] = []
        latest = LatestFrame()
        preview = Preview(
            latest, title="test", on_toggle=lambda: calls.append("toggle"), on_quit=lambda: calls.append("quit")
        )
        try:
            frame = np.ascontiguousarray(data.astronaut()[200:264, 200:296])
            latest.send(Picture(frame, RGB))
            preview.refresh()
            assert (preview.photo.width(), preview.photo.height()) == (96, 64)
            for x, y in ((0, 0), (50, 30), (95, 63)):
                assert preview.photo.get(x, y) == tuple(int(v) for v in frame[y, x])
            preview.refresh()
            assert preview.shown == 1  # unchanged frame, not redrawn
            preview.root.update()
            preview.root.focus_force()  # generated key events go to the focus window
            preview.root.update()
            for key in ("s", "space", "q"):
                preview.root.event_generate(f"<KeyPress-{key}>", when="now")
            preview.root.update()
            assert calls == ["toggle", "toggle", "quit"]
        finally:
            preview.close()

    def test_cli_with_preview_runs_to_the_end(self, display, pan_video, tiny_model) -> None:
        result = kdsharp_cam(
            pan_video.path,
            "--model",
            tiny_model,
            "--camera",
            "none",
            "--preview",
            "--side-by-side",
            env=child_env(DISPLAY=display),
        )
        assert result.returncode == 0, result.stderr
        assert "24 frames captured, 24 sent" in result.stderr
