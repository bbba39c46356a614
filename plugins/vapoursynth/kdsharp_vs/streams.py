"""A fixed set of ``Sharpener`` streams shared by VapourSynth's worker threads.

With ``num_streams > 1`` VapourSynth's worker threads run several frames of
the filter at once (``lane_count``). ``Sharpener.sharpen`` is thread-safe, but
two frames running on one onnxruntime session at the same time fight over its
intra-op thread pool, so each stream (one session) runs one frame at a time
and a frame waits for a free stream. ``num_streams = 1`` (the default) gives every frame all CPU
threads; more streams trade per-frame threads for frames in flight, which
helps GPUs and many-core CPUs.
"""

from __future__ import annotations

import contextlib
import os
import queue
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from kdsharp import RuntimeConfig, Sharpener


def lane_count(num_streams: int, num_frames: int) -> int:
    """How many frames the filter works on at once: one per stream.

    VapourSynth calls one ``ModifyFrame`` function for one frame at a time,
    so the filter splits the clip into lanes (``kdsharp_vs.filter``), one per
    stream. Not more: a frame waiting for a stream would only add threads
    competing with onnxruntime's own for the CPU. Never more lanes than frames.
    """
    return max(1, min(num_streams, num_frames))


def stream_config(config: RuntimeConfig, num_streams: int) -> RuntimeConfig:
    """Split the CPU threads between streams unless the caller fixed a count.

    Args:
        config: the runtime settings asked for.
        num_streams: sessions that will run at the same time (>= 1).

    Returns:
        ``config``, with ``threads = max(1, cpu_count // num_streams)`` when it
        had no thread count and there is more than one stream.
    """
    if config.threads is not None or num_streams == 1:
        return config
    return replace(config, threads=max(1, (os.cpu_count() or 1) // num_streams))


class SharpenerPool:
    """``num_streams`` sharpeners for one model, lent to one caller at a time.

    Args:
        model: as for ``Sharpener``: ``None``, a shipped name or a path.
        config: runtime settings for every stream (see ``stream_config``).
        num_streams: how many sessions to create (>= 1).

    Raises:
        KdsharpError: from ``Sharpener`` (bad model, runtime failure, bad tile/overlap).
    """

    def __init__(self, model: str | Path | None, config: RuntimeConfig, num_streams: int) -> None:
        self.streams: tuple[Sharpener, ...] = tuple(Sharpener(model, config=config) for _ in range(num_streams))
        self._idle: queue.SimpleQueue[Sharpener] = queue.SimpleQueue()
        for sharpener in self.streams:
            self._idle.put(sharpener)

    @property
    def first(self) -> Sharpener:
        """One of the streams, for its model information."""
        return self.streams[0]

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Sharpener]:
        """Wait for a free stream and lend it for the ``with`` block."""
        sharpener = self._idle.get()
        try:
            yield sharpener
        finally:
            self._idle.put(sharpener)
