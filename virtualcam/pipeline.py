"""The pipe: capture, inference and output threads joined by bounded queues.

::

    capture ──q_in (1–2)──> inference ──q_out (1–2)──> output ──> camera / recording / preview

For a live source (camera, device, stream, ``--realtime`` file) a full queue
drops its *oldest* frame to make room, so when inference is slower than the
source the pipe always works on the newest frame and latency stays bounded.
For a file the queues block instead, so every frame goes through. The output
thread sends each frame to every output, then lets the camera pace it with
``pyvirtualcam.Camera.sleep_until_next_frame``.

Frames travel as ``pictures.Picture``: RGB, or I420 when the model is luma
and a camera takes a 4:2:0 format (``choose_layout``); each output asks for the
layout it needs. The pipe does no pixel maths: the core does it all.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol
from collections.abc import Callable, Sequence

import numpy as np
from pyvirtualcam import Camera

from kdsharp import KdsharpError
from kdsharp_cam import pixel_formats
from kdsharp_cam.pictures import I420, LAYOUTS, RGB, Picture, join_i420, side_by_side, split_i420
from kdsharp_cam.recording import Recorder
from kdsharp_cam.sources import VideoSource
from kdsharp_cam.stats import PipeStats

#: Why a pipe stopped (``Pipe.end_reason``).
ENDED, LOST, STOPPED, FRAME_LIMIT, FAILED = "ended", "lost", "stopped", "frame limit", "failed"

END = None  # queue sentinel: no more frames
POLL = 0.05  # seconds a blocked thread waits before checking for a stop


class Sharpens(Protocol):
    """What the pipe needs of ``kdsharp.Sharpener``."""

    def sharpen(self, image: np.ndarray, *, strength: float = 1.0) -> np.ndarray: ...

    def sharpen_planes(
        self, planes: Sequence[np.ndarray], *, strength: float = 1.0, limited_range: bool = False
    ) -> list[np.ndarray]: ...


class Output(Protocol):
    """Where finished frames go."""

    #: the layout this output sends without converting (``pictures.RGB`` or ``pictures.I420``)
    layout: str

    def send(self, picture: Picture) -> None:
        """Take one frame."""

    def pace(self) -> None:
        """Wait until the next frame is due (no-op for outputs without a clock)."""

    def close(self) -> None:
        """Release the output; called once, from the thread that runs the CLI."""


class CameraOutput:
    """A ``pyvirtualcam.Camera``: converts to its pixel format, sends, and paces."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.layout = I420 if camera.fmt in pixel_formats.FOUR_TWO_ZERO else RGB

    def send(self, picture: Picture) -> None:
        self.camera.send(pixel_formats.for_camera(picture, self.camera.fmt))

    def pace(self) -> None:
        self.camera.sleep_until_next_frame()

    def close(self) -> None:
        self.camera.close()


class RecordOutput:
    """``--record``: frames appended to a ``Recorder``; finalised by ``close``."""

    layout = RGB

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def send(self, picture: Picture) -> None:
        self.recorder.write(picture.rgb())

    def pace(self) -> None:
        pass

    def close(self) -> None:
        self.recorder.finish()


class LatestFrame:
    """Keeps only the newest frame, for a viewer that runs on its own clock (the preview)."""

    layout = RGB

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frame: Picture | None = None
        self.serial = 0

    def send(self, picture: Picture) -> None:
        with self.lock:
            self.frame = picture
            self.serial += 1

    def take(self, seen: int) -> tuple[np.ndarray | None, int]:
        """Return the newest frame (``H×W×3`` RGB) if its serial is newer than ``seen`` (else ``None``) and the serial."""
        with self.lock:
            picture, serial = (self.frame if self.serial != seen else None), self.serial
        return (None if picture is None else picture.rgb()), serial

    def pace(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class PipeSettings:
    """How the pipe runs.

    Attributes:
        strength: passed to ``Sharpener.sharpen`` (0 = identity, 1 = model, up to 2).
        side_by_side: send the original and the sharpened frame next to each
            other (output width doubles) instead of the sharpened frame alone.
        queue_size: bound of each queue between threads, 1 or 2.
        max_frames: stop after capturing this many frames (``None``: no limit).
        reconnect: when a live source stops, reopen it every ``reconnect_delay``
            seconds instead of stopping.
        reconnect_delay: seconds between reconnection attempts.
        layout: how frames travel: ``"rgb"``, ``"i420"``, or ``"auto"`` (see ``choose_layout``).
    """

    strength: float = 1.0
    side_by_side: bool = False
    queue_size: int = 1
    max_frames: int | None = None
    reconnect: bool = False
    reconnect_delay: float = 1.0
    layout: str = "auto"


def luma_model(sharpener: Sharpens) -> bool:
    """Whether the core's model sharpens luma only (``ModelInfo.channels == 1``)."""
    return getattr(getattr(sharpener, "info", None), "channels", 3) == 1


def choose_layout(setting: str, sharpener: Sharpens, outputs: Sequence[Output], size: tuple[int, int]) -> str:
    """The layout frames travel in.

    ``auto`` picks I420 when the model is luma (it only changes Y'), some output
    takes a 4:2:0 format, and both sides are even; RGB otherwise. An RGB model
    in I420 still works (through RGB), only slower.
    """
    if setting != "auto":
        if setting not in LAYOUTS:
            raise ValueError(f"layout must be auto or one of {LAYOUTS}, got {setting!r}")
        if setting == I420 and (size[0] % 2 or size[1] % 2):
            raise ValueError(f"layout i420 needs even sides, got {size[0]}x{size[1]}")
        return setting
    even = size[0] % 2 == 0 and size[1] % 2 == 0
    wants = any(getattr(output, "layout", RGB) == I420 for output in outputs)
    return I420 if luma_model(sharpener) and even and wants else RGB


@dataclass
class Frame:
    """One frame in flight.

    Attributes:
        index: position in the source (0-based, counting every captured frame).
        captured: ``time.perf_counter()`` when it left the source.
        original: the frame as captured.
        shown: what the outputs receive (sharpened, or side by side).
    """

    index: int
    captured: float
    original: Picture
    shown: Picture | None = field(default=None, repr=False)


@dataclass
class StepDown:
    """The webcam's way down the model ladder.

    When the mean inference time stays above the source's frame interval for
    ``patience`` seconds, the next cheaper rung replaces the running one: a pipe
    that falls behind drops frames (live queues keep only the newest), so this
    trades picture for rate instead. Only ``auto`` steps; a forced ``--model`` stays.

    Attributes:
        current: the rung running now.
        cheaper: the rungs below it, the next one first.
        load: builds the core for a rung.
        frame_seconds: the source's frame interval.
        patience: seconds behind before stepping.
    """

    current: str
    cheaper: list[str]
    load: Callable[[str], Sharpens]
    frame_seconds: float
    patience: float = 3.0
    behind_since: float | None = None
    stepped_from: list[str] = field(default_factory=list)

    def due(self, now: float, mean_inference: float) -> bool:
        """Record the mean inference time at ``now``; True when it has been too slow for ``patience`` seconds."""
        if not self.cheaper or mean_inference <= self.frame_seconds:
            self.behind_since = None
            return False
        if self.behind_since is None:
            self.behind_since = now
        return now - self.behind_since >= self.patience

    def label(self) -> str:
        """The stats line's model text: the rung, and where it came down from."""
        return self.current + (f" (stepped down from {self.stepped_from[0]})" if self.stepped_from else "")


class Pipe:
    """Three threads moving frames from a source through the core to the outputs.

    Args:
        source: an opened source; ``first`` is the frame already read from it.
        sharpener: the core (or anything with its ``sharpen``).
        outputs: where finished frames go, in order.
        settings: see ``PipeSettings``.
        stats: counters; a new ``PipeStats`` when ``None``.
        notify: called with a one-line message on events such as reconnecting.
        step_down: the ladder to come down when inference falls behind (live sources only).
    """

    def __init__(
        self,
        source: VideoSource,
        sharpener: Sharpens,
        outputs: Sequence[Output],
        settings: PipeSettings = PipeSettings(),
        stats: PipeStats | None = None,
        notify: Callable[[str], None] = lambda message: None,
        step_down: StepDown | None = None,
    ) -> None:
        if settings.queue_size not in (1, 2):
            raise ValueError(f"queue_size must be 1 or 2, got {settings.queue_size}")
        self.source = source
        self.sharpener = sharpener
        self.outputs = list(outputs)
        self.settings = settings
        self.stats = stats or PipeStats()
        self.notify = notify
        self.step_down = step_down
        if step_down is not None:
            self.stats.model = step_down.label()
        self.live = source.live
        self.layout = choose_layout(settings.layout, sharpener, self.outputs, source.size or (1, 1))
        self.luma_planes = self.layout == I420 and luma_model(sharpener)
        self.q_in: queue.Queue[Frame | None] = queue.Queue(settings.queue_size)
        self.q_out: queue.Queue[Frame | None] = queue.Queue(settings.queue_size)
        self.sharpening = threading.Event()
        self.sharpening.set()
        self.stopping = threading.Event()
        self.failure: BaseException | None = None
        self.end_reason: str | None = None
        self.threads: list[threading.Thread] = []

    # -- control, from any thread -------------------------------------------------

    def start(self, first: np.ndarray) -> None:
        """Start the threads; ``first`` is the frame already read from the source."""
        targets = (
            ("capture", self.capture_loop, (first,)),
            ("inference", self.inference_loop, ()),
            ("output", self.output_loop, ()),
        )
        for name, target, args in targets:
            thread = threading.Thread(target=self.guard, args=(target, *args), name=f"kdsharp-cam-{name}", daemon=True)
            self.threads.append(thread)
        for thread in self.threads:
            thread.start()

    def toggle(self) -> bool:
        """Switch sharpening on or off; returns the new state."""
        if self.sharpening.is_set():
            self.sharpening.clear()
            return False
        self.sharpening.set()
        return True

    def stop(self) -> None:
        """Ask every thread to finish (Ctrl-C, a closed preview)."""
        if self.end_reason is None:
            self.end_reason = STOPPED
        self.stopping.set()

    @property
    def done(self) -> bool:
        """True once the output thread has finished."""
        return bool(self.threads) and not self.threads[-1].is_alive()

    def join(self, timeout: float = 5.0) -> bool:
        """Stop and wait for the threads (each at most ``timeout`` seconds); True when all finished.

        A thread still alive is stuck in a call that cannot be interrupted (a
        stalled stream in ``VideoCapture.read``); its resources must then be
        left alone rather than released under it.
        """
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self.threads)

    # -- the threads --------------------------------------------------------------

    def guard(self, target: Callable[..., None], *args: object) -> None:
        """Run one stage; the first error of any stage stops the whole pipe."""
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which reports it
            if self.failure is None:
                self.failure = exc
                self.end_reason = FAILED
            self.stopping.set()

    def put(self, box: queue.Queue, item: Frame | None) -> None:
        """Queue ``item``: drop the oldest waiting frame when live, wait for room otherwise.

        ``END`` always waits for room, so the last frame of a source is never dropped for it.
        """
        if self.live and item is not END:
            while True:
                try:
                    box.put_nowait(item)
                    return
                except queue.Full:
                    try:
                        box.get_nowait()
                    except queue.Empty:
                        continue
                    self.stats.dropped_frame()
        while not self.stopping.is_set():
            try:
                box.put(item, timeout=POLL)
                return
            except queue.Full:
                continue

    def get(self, box: queue.Queue) -> Frame | None:
        """Next item of ``box``, or ``END`` once the pipe is stopping."""
        while not self.stopping.is_set():
            try:
                return box.get(timeout=POLL)
            except queue.Empty:
                continue
        return END

    def reopen(self) -> Picture | None:
        """Reopen a lost live source until it delivers a frame or the pipe stops."""
        self.notify(
            f"source {self.source.spec.text} lost; reconnecting every {self.settings.reconnect_delay:g} s (Ctrl-C to stop)"
        )
        while not self.stopping.wait(self.settings.reconnect_delay):
            try:
                self.source.open()
            except Exception:  # noqa: BLE001 - SourceError or an OpenCV error: try again later
                continue
            frame = self.source.read_picture(self.layout)
            if frame is not None:
                self.notify(f"source {self.source.spec.text} is back")
                return frame
        return None

    def capture_loop(self, first: np.ndarray) -> None:
        """Capture thread: read frames and queue them, until the source ends or the pipe stops."""
        frame: Picture | None = Picture(first, RGB)
        index = 0
        while not self.stopping.is_set():
            if frame is None:
                if self.source.spec.live and self.settings.reconnect:
                    frame = self.reopen()
                    continue
                if self.end_reason is None:
                    self.end_reason = LOST if self.source.spec.live else ENDED
                break
            self.stats.captured_frame()
            self.put(self.q_in, Frame(index, time.perf_counter(), frame))
            index += 1
            if self.settings.max_frames is not None and index >= self.settings.max_frames:
                if self.end_reason is None:
                    self.end_reason = FRAME_LIMIT
                break
            frame = self.source.read_picture(self.layout)
        self.put(self.q_in, END)

    def inference_loop(self) -> None:
        """Inference thread: sharpen each queued frame with the core (or pass it through when toggled off)."""
        while (item := self.get(self.q_in)) is not END:
            if self.sharpening.is_set():
                started = time.perf_counter()
                sharpened = self.sharpen(item.original)
                self.stats.inferred(time.perf_counter() - started)
                if self.step_down is not None and self.live:
                    self.maybe_step_down()
            else:
                sharpened = item.original
            item.shown = side_by_side(item.original, sharpened) if self.settings.side_by_side else sharpened
            self.put(self.q_out, item)
        self.put(self.q_out, END)

    def maybe_step_down(self) -> None:
        """Move one rung down the ladder when inference has stayed too slow (see ``StepDown``)."""
        ladder = self.step_down
        assert ladder is not None
        mean = self.stats.mean_inference()
        if not ladder.due(time.perf_counter(), mean):
            return
        old, new = ladder.current, ladder.cheaper.pop(0)
        try:
            sharpener = ladder.load(new)
        except KdsharpError as exc:
            ladder.cheaper.clear()
            self.notify(f"inference is behind but rung {new} could not load ({exc}); staying on {old}")
            return
        self.sharpener = sharpener
        self.luma_planes = self.layout == I420 and luma_model(sharpener)
        ladder.stepped_from.append(old)
        ladder.current, ladder.behind_since = new, None
        self.stats.model = ladder.label()
        self.notify(
            f"inference fell behind for {ladder.patience:g} s ({1000 * mean:.1f} ms a frame; the source sends one every "
            f"{1000 * ladder.frame_seconds:.1f} ms): stepped down from {old} to {new}"
        )

    def sharpen(self, picture: Picture) -> Picture:
        """The core's result for one frame: the Y' plane alone in I420 with a luma model, RGB otherwise."""
        strength = self.settings.strength
        if self.luma_planes:
            y, u, v = split_i420(picture.i420())
            (sharp_y,) = self.sharpener.sharpen_planes([y], strength=strength, limited_range=True)
            return Picture(join_i420(sharp_y, u, v), I420)
        return Picture(self.sharpener.sharpen(picture.rgb(), strength=strength), RGB)

    def output_loop(self) -> None:
        """Output thread: hand each finished frame to every output, then let them pace."""
        while (item := self.get(self.q_out)) is not END:
            for output in self.outputs:
                output.send(item.shown)
            self.stats.sent_frame(time.perf_counter() - item.captured)
            for output in self.outputs:
                output.pace()
