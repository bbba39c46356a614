"""Live counters of the pipe: input fps, output fps, inference time, drops, latency.

Each stage records events from its own thread; ``snapshot`` reads a rolling
window from any thread (usually the main thread printing the stats line).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Snapshot:
    """Pipe statistics at one moment.

    Attributes:
        input_fps: frames captured per second over the window.
        output_fps: frames sent per second over the window.
        infer_ms: mean inference time per frame over the window, milliseconds.
        latency_ms: mean capture-to-send time over the window, milliseconds.
        latency_max_ms: worst capture-to-send time over the window, milliseconds.
        captured, sent, dropped: totals since the start.
        sharpening: whether frames are being sharpened right now.
        model: the rung or model running, and how it got there (empty when not told).
    """

    input_fps: float
    output_fps: float
    infer_ms: float
    latency_ms: float
    latency_max_ms: float
    captured: int
    sent: int
    dropped: int
    sharpening: bool
    model: str = ""

    def line(self) -> str:
        """The one-line stats display."""
        return (
            f"in {self.input_fps:5.1f} fps | out {self.output_fps:5.1f} fps | infer {self.infer_ms:6.1f} ms"
            f" | dropped {self.dropped} | latency {self.latency_ms:6.1f} ms (max {self.latency_max_ms:.1f})"
            f" | sharpen {'on' if self.sharpening else 'off'}" + (f" | model {self.model}" if self.model else "")
        )


class PipeStats:
    """Thread-safe event counters with a rolling window.

    Args:
        window: seconds covered by the rates and means of ``snapshot``.
    """

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self.lock = threading.Lock()
        self.captures: deque[tuple[float, float]] = deque()  # (time, 0)
        self.sends: deque[tuple[float, float]] = deque()  # (time, latency s)
        self.inferences: deque[tuple[float, float]] = deque()  # (time, duration s)
        self.captured = 0
        self.sent = 0
        self.dropped = 0
        self.all_latencies: list[float] = []
        self.all_inferences: list[float] = []
        self.started = time.perf_counter()
        self.model = ""

    def trim(self, now: float) -> None:
        """Forget window events older than ``window`` seconds (caller holds the lock)."""
        edge = now - self.window
        for events in (self.captures, self.sends, self.inferences):
            while events and events[0][0] < edge:
                events.popleft()

    def captured_frame(self) -> None:
        """Record one frame read from the source."""
        now = time.perf_counter()
        with self.lock:
            self.captured += 1
            self.captures.append((now, 0.0))
            self.trim(now)

    def dropped_frame(self) -> None:
        """Record one frame thrown away because a later one replaced it."""
        with self.lock:
            self.dropped += 1

    def inferred(self, seconds: float) -> None:
        """Record one inference of ``seconds``."""
        now = time.perf_counter()
        with self.lock:
            self.inferences.append((now, seconds))
            self.all_inferences.append(seconds)
            self.trim(now)

    def mean_inference(self) -> float:
        """Mean seconds per inference over the last ``window`` seconds (0 when none)."""
        now = time.perf_counter()
        with self.lock:
            self.trim(now)
            return sum(d for _, d in self.inferences) / len(self.inferences) if self.inferences else 0.0

    def sent_frame(self, latency: float) -> None:
        """Record one frame handed to the outputs, ``latency`` seconds after its capture."""
        now = time.perf_counter()
        with self.lock:
            self.sent += 1
            self.sends.append((now, latency))
            self.all_latencies.append(latency)
            self.trim(now)

    def snapshot(self, sharpening: bool) -> Snapshot:
        """Rates and means over the last ``window`` seconds, totals since the start."""
        now = time.perf_counter()
        with self.lock:
            self.trim(now)
            span = min(self.window, max(now - self.started, 1e-6))
            latencies = [lat for _, lat in self.sends]
            infers = [d for _, d in self.inferences]
            return Snapshot(
                input_fps=len(self.captures) / span,
                output_fps=len(self.sends) / span,
                infer_ms=1000 * sum(infers) / len(infers) if infers else 0.0,
                latency_ms=1000 * sum(latencies) / len(latencies) if latencies else 0.0,
                latency_max_ms=1000 * max(latencies) if latencies else 0.0,
                captured=self.captured,
                sent=self.sent,
                dropped=self.dropped,
                sharpening=sharpening,
                model=self.model,
            )

    def summary(self) -> str:
        """Totals of the whole run, for the last line the CLI prints."""
        with self.lock:
            elapsed = max(time.perf_counter() - self.started, 1e-6)
            lat = sorted(self.all_latencies)
            infer = self.all_inferences
            text = f"{self.captured} frames captured, {self.sent} sent, {self.dropped} dropped in {elapsed:.1f} s"
            if infer:
                text += f"; inference {1000 * sum(infer) / len(infer):.1f} ms mean"
            if lat:
                p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
                text += f"; latency {1000 * sum(lat) / len(lat):.1f} ms mean, {1000 * p95:.1f} ms p95"
            return text
