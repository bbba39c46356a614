"""``kdsharp-cam``: a sharpened camera for meeting apps.

Reads a camera, a device, a video file or a stream, sharpens every frame with
the core and sends it to a virtual camera (v4l2loopback on Linux, OBS Virtual
Camera on Windows and macOS)::

    kdsharp-cam 0                                  # webcam 0 -> first virtual camera
    kdsharp-cam /dev/video0 --device /dev/video2 --resolution 1280x720 --fps 30
    kdsharp-cam talk.mp4 --camera none --record talk-sharp.mkv
    kdsharp-cam 0 --preview --side-by-side        # s / space: sharpening on/off, q: quit

``kill -USR1 <pid>`` toggles sharpening too; Ctrl-C (or SIGTERM) stops
cleanly: the device is released and the recording finalised. Problems are
reported in one line with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn
from collections.abc import Sequence

import numpy as np

from kdsharp import KdsharpError, RuntimeConfig, Sharpener, ladder
from kdsharp.cli.runtime import positive_int, strength_arg
from kdsharp_cam import pixel_formats, recording, virtual_camera
from kdsharp_cam.errors import CamError, SourceError, UsageError
from kdsharp_cam.pipeline import LOST, CameraOutput, LatestFrame, Output, Pipe, PipeSettings, RecordOutput, StepDown
from kdsharp_cam.preview import Preview
from kdsharp_cam.sources import VideoSource, parse_source
from kdsharp_cam.stats import PipeStats

PROG = "kdsharp-cam"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def resolution(text: str) -> tuple[int, int]:
    """Parse ``WIDTHxHEIGHT`` (such as ``1280x720``)."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 1 or int(height) < 1:
        raise argparse.ArgumentTypeError(f"resolution {text!r} is not WIDTHxHEIGHT, such as 1280x720")
    return int(width), int(height)


def positive(text: str) -> float:
    """Parse a number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number above 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``kdsharp-cam`` argument parser."""
    parser = OneLineParser(
        prog=PROG, description="Sharpen a camera or video with kdsharp and send it to a virtual camera."
    )
    parser.add_argument(
        "source", nargs="?", default="0", help="camera index (0), device (/dev/video0), video file or URL; default 0"
    )
    parser.add_argument(
        "--resolution",
        type=resolution,
        metavar="WxH",
        help="frame size asked of the camera (others are resized); default: the source's",
    )
    parser.add_argument("--fps", type=positive, help="virtual camera frame rate; default: the source's (30 if unknown)")
    parser.add_argument(
        "--camera",
        default="auto",
        metavar="BACKEND",
        help="pyvirtualcam backend (v4l2loopback, obs, unitycapture), auto to try each, none for no virtual camera; default auto",
    )
    parser.add_argument(
        "--device",
        help="virtual camera device, such as /dev/video2 or 'OBS Virtual Camera'; default: the first free one",
    )
    parser.add_argument(
        "--pixel-format",
        choices=["auto", *sorted(pixel_formats.PIXEL_FORMATS)],
        default="auto",
        help="pixel format sent to the virtual camera; default auto: i420 (what meeting apps read) when both sides are even, else rgb",
    )
    parser.add_argument(
        "--strength", type=strength_arg, default=1.0, help="0 = unchanged, 1 = the model, up to 2; default 1"
    )
    parser.add_argument(
        "--model",
        help="a rung (fast, quality, max), auto (the largest rung that holds the camera's frame rate, timed at "
        "start, stepping down a rung when inference falls behind), nokd or an .onnx path; default: auto",
    )
    parser.add_argument("--threads", type=positive_int, help="CPU threads for inference; default: onnxruntime's choice")
    parser.add_argument(
        "--preview", action="store_true", help="show a window with what is sent (s/space: toggle, q: quit)"
    )
    parser.add_argument(
        "--side-by-side", action="store_true", help="send the original and the sharpened frame next to each other"
    )
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="also write the frames sent to FILE (.mkv lossless FFV1, .avi MJPG, .mp4/.mov mp4v)",
    )
    parser.add_argument(
        "--reconnect", action="store_true", help="when a camera or stream stops, reopen it instead of stopping"
    )
    parser.add_argument(
        "--realtime", action="store_true", help="play a video file at its own frame rate, dropping frames like a camera"
    )
    parser.add_argument("--frames", type=positive_int, metavar="N", help="stop after N frames")
    parser.add_argument(
        "--queue-size", type=int, choices=(1, 2), default=1, help="frames each queue between threads holds; default 1"
    )
    parser.add_argument(
        "--stats",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="stats line interval on stderr, 0 for none; default 1",
    )
    return parser


def say(message: str) -> None:
    """One line on stderr, prefixed with the program name."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


class StatsLine:
    """Prints the stats line every ``interval`` seconds (in place on a terminal)."""

    def __init__(self, pipe: Pipe, interval: float) -> None:
        self.pipe = pipe
        self.interval = interval
        self.next = time.perf_counter() + interval
        self.inline = sys.stderr.isatty()
        self.printed = False

    def tick(self) -> None:
        if self.interval <= 0 or time.perf_counter() < self.next:
            return
        self.next += self.interval
        line = self.pipe.stats.snapshot(self.pipe.sharpening.is_set()).line()
        if self.inline:
            sys.stderr.write(f"\r{line}\x1b[K")
            sys.stderr.flush()
            self.printed = True
        else:
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.printed:
            sys.stderr.write("\n")


def run(args: argparse.Namespace) -> int:
    """Set up the source, core, outputs and pipe from parsed arguments, and run until the end."""
    use_camera = args.camera.lower() != "none"
    if args.record is not None and (problem := recording.check_target(args.record)):
        raise UsageError(problem)
    if args.camera.lower() not in ("auto", "none") and args.camera not in virtual_camera.backend_names():
        raise UsageError(
            f"--camera {args.camera}: no such backend here (use auto, none or one of: {', '.join(virtual_camera.backend_names())})"
        )
    try:
        spec = parse_source(args.source)
    except CamError as exc:
        raise UsageError(str(exc)) from None
    if args.record is not None and spec.kind == "file" and args.record.resolve() == Path(spec.text).resolve():
        raise UsageError(f"--record {args.record} is the source itself; the input is never overwritten")

    latest = LatestFrame() if args.preview else None
    preview: Preview | None = None
    pipe: Pipe | None = None
    if args.preview:
        preview = Preview(
            latest, title=f"{PROG}: {args.source}", on_toggle=lambda: toggle(pipe), on_quit=lambda: pipe and pipe.stop()
        )

    outputs: list[Output] = []
    recorder: recording.Recorder | None = None
    source = VideoSource(spec, size=args.resolution, fps=args.fps, realtime=args.realtime)
    # No busy-waiting: capture and output threads need the cores between inference runs.
    config = RuntimeConfig(threads=args.threads, spin=False)
    auto = args.model in (None, ladder.AUTO)
    try:
        sharpener = None if auto else Sharpener(model=args.model, config=config)
        first = first_frame(source, args.reconnect)
        if first is None:
            return EXIT_OK  # Ctrl-C while waiting for the source
        width, height = source.size
        out_size = (2 * width if args.side_by_side else width, height)
        fps = args.fps or source.fps
        step_down = None
        if sharpener is None:
            sharpener, step_down = choose_rung(width, height, fps, config)
        if use_camera:
            fmt = pixel_formats.choose(args.pixel_format, *out_size)
            if problem := pixel_formats.check_size(fmt, *out_size):
                raise UsageError(f"{problem}; choose --resolution or --pixel-format rgb")
            backend = None if args.camera.lower() == "auto" else args.camera
            camera = virtual_camera.open_camera(*out_size, fps, fmt, device=args.device, backend=backend)
            outputs.append(CameraOutput(camera))
            say(
                f"sending {out_size[0]}x{out_size[1]} {fmt.name} at {fps:g} fps to {camera.device} ({camera.backend}); SIGUSR1 toggles sharpening"
            )
        if args.record is not None:
            recorder = recording.Recorder(args.record, out_size, fps)
            outputs.append(RecordOutput(recorder))
        if latest is not None:
            outputs.append(latest)
        settings = PipeSettings(
            strength=args.strength,
            side_by_side=args.side_by_side,
            queue_size=args.queue_size,
            max_frames=args.frames,
            reconnect=args.reconnect,
        )
        pipe = Pipe(source, sharpener, outputs, settings, PipeStats(), notify=say, step_down=step_down)
        return drive(pipe, first, preview, args.stats, recorder)
    except BaseException:
        if recorder is not None:
            recorder.discard()
        raise
    finally:
        if pipe is None or pipe.join(timeout=0):
            for output in outputs:
                if not isinstance(output, RecordOutput):
                    output.close()
            source.close()
        if preview is not None:
            preview.close()


def choose_rung(width: int, height: int, fps: float, config: RuntimeConfig) -> tuple[Sharpener, StepDown]:
    """``auto``: the largest rung that holds ``fps`` (said in one line), and the ladder below it to step down."""
    choice = ladder.choose(width, height, fps, config)
    say(choice.reason)
    rungs = ladder.installed_rungs()
    cheaper = list(reversed(rungs[: rungs.index(choice.rung)])) if choice.rung in rungs else []
    step_down = StepDown(choice.rung, cheaper, lambda rung: Sharpener(rung, config=config), 1.0 / fps)
    return choice.sharpener, step_down


def first_frame(source: VideoSource, reconnect: bool) -> np.ndarray | None:
    """Open the source and read its first frame (``H×W×3`` uint8 RGB).

    With ``reconnect``, a live source that is not there yet is retried every
    second until it delivers or Ctrl-C (then ``None``).

    Raises:
        SourceError: it cannot be opened or gives no frame, and no retry was asked for.
    """
    waiting = False
    try:
        while True:
            try:
                source.open()
                frame = source.read()
                if frame is not None:
                    if waiting:
                        say(f"source {source.spec.text} is up")
                    return frame
                problem = SourceError(f"source {source.spec.text} opened but gave no frame")
            except SourceError as exc:
                problem = exc
            if not (reconnect and source.spec.live):
                raise problem
            if not waiting:
                say(f"{problem}; waiting for it (--reconnect), Ctrl-C to give up")
                waiting = True
            time.sleep(1.0)
    except KeyboardInterrupt:
        if not waiting:
            raise
        say("stopped while waiting for the source")
        return None


def toggle(pipe: Pipe | None) -> None:
    """Switch sharpening and say so."""
    if pipe is not None:
        say(f"sharpening {'on' if pipe.toggle() else 'off'}")


def drive(
    pipe: Pipe, first: np.ndarray, preview: Preview | None, stats_interval: float, recorder: recording.Recorder | None
) -> int:
    """Run ``pipe`` on the main thread's signals (and preview) until it ends; return the exit status."""
    interrupts = 0

    def on_stop(signum: int, frame: object) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            raise KeyboardInterrupt  # a second Ctrl-C: stop waiting for the threads
        pipe.stop()

    toggled: list[bool] = []

    def on_toggle(signum: int, frame: object) -> None:
        # Only flip the switch here: printing from a handler can collide with the stats line.
        toggled.append(pipe.toggle())

    def tick() -> None:
        while toggled:
            say(f"sharpening {'on' if toggled.pop(0) else 'off'}")
        line.tick()

    previous = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    if hasattr(signal, "SIGUSR1"):
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, on_toggle)
    line = StatsLine(pipe, stats_interval)
    try:
        pipe.start(first)
        if preview is not None:
            preview.run(lambda: pipe.done, tick)
        while not pipe.done:
            pipe.threads[-1].join(0.05)
            tick()
        tick()
    finally:
        if not pipe.join():
            say("a pipe thread did not stop in time (a stalled source?); leaving its resources to the exit")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        line.finish()
    if pipe.failure is not None:
        if recorder is not None:
            recorder.discard()
        raise pipe.failure
    if recorder is not None and (written := recorder.finish()) is not None:
        say(f"recorded {recorder.frames} frames to {written}")
    say(f"{pipe.stats.summary()} ({pipe.end_reason})")
    if pipe.end_reason == LOST:
        say(f"source {pipe.source.spec.text} stopped delivering frames; use --reconnect to wait for it")
        return EXIT_FAILED
    return EXIT_OK


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM before the pipe runs: unwind like Ctrl-C."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        return run(args)
    except UsageError as exc:
        say(str(exc))
        return EXIT_USAGE
    except KdsharpError as exc:
        say(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        say("interrupted")
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - an error of OpenCV, pyvirtualcam or the OS: one line, not a traceback
        say(f"{type(exc).__name__}: {exc}")
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
