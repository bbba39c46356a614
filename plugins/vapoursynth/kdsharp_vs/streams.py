"""A fixed set of ``Sharpener`` streams shared by VapourSynth's worker threads.

With ``num_streams > 1`` VapourSynth's worker threads run several frames of
the filter at once (``lane_count``). ``Sharpener.sharpen`` is thread-safe, but
two frames running on one onnxruntime session at the same time fight over its
intra-op thread pool, so each stream (one session) runs one frame at a time
and a frame waits for a free stream. ``num_streams = 1`` (the default) gives
every frame all CPU threads; more streams trade per-frame threads for frames
in flight, which helps GPUs and many-core CPUs.

Each stream runs on its own Python thread. VapourSynth's worker threads are
not Python threads: every callback gets a fresh Python thread state, so
``threading.local`` data (the core keeps its input/output buffers and
onnxruntime IO bindings there) would be rebuilt for every frame, which
measured about 50% slower at 1080p than the core alone.
"""

from __future__ import annotations

import contextlib
import os
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np

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


class Stream:
    """One ``Sharpener`` and the one Python thread that runs all its frames.

    Args:
        sharpener: the stream's own session.
    """

    def __init__(self, sharpener: Sharpener) -> None:
        self.sharpener = sharpener
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kdsharp-vs-stream")

    def sharpen_planes(self, planes: list[np.ndarray], strength: float, **levels: Any) -> list[np.ndarray]:
        """``Sharpener.sharpen_planes`` run on the stream's thread; blocks until done, raises what it raises.

        ``levels`` are its ``limited_range`` and ``bits`` (``PlaneCodec.levels``).
        """
        return self._thread.submit(self.sharpener.sharpen_planes, planes, strength=strength, **levels).result()


class SharpenerPool:
    """``num_streams`` streams for one model, each lent to one caller at a time.

    Args:
        model: as for ``Sharpener``: ``None``, a shipped name or a path.
        config: runtime settings for every stream (see ``stream_config``).
        num_streams: how many sessions to create (>= 1).

    Raises:
        KdsharpError: from ``Sharpener`` (bad model, runtime failure, bad tile/overlap).
    """

    def __init__(self, model: str | Path | None, config: RuntimeConfig, num_streams: int) -> None:
        self.streams: tuple[Stream, ...] = tuple(Stream(Sharpener(model, config=config)) for _ in range(num_streams))
        self._idle: queue.SimpleQueue[Stream] = queue.SimpleQueue()
        for stream in self.streams:
            self._idle.put(stream)

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Stream]:
        """Wait for a free stream and lend it for the ``with`` block."""
        stream = self._idle.get()
        try:
            yield stream
        finally:
            self._idle.put(stream)
