"""kdsharp_vs.streams: thread split, one frame per stream at a time, one Python thread per stream."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import vapoursynth as vs

import kdsharp_vs
from kdsharp import InputError, RuntimeConfig, Sharpener
from kdsharp_vs.streams import SharpenerPool, lane_count, stream_config

pytestmark = pytest.mark.vapoursynth


def test_stream_config_splits_threads() -> None:
    base = RuntimeConfig()
    assert stream_config(base, 1) is base
    assert stream_config(base, 2).threads == max(1, (os.cpu_count() or 1) // 2)
    assert stream_config(base, 1000).threads == 1
    fixed = RuntimeConfig(threads=3)
    assert stream_config(fixed, 4) is fixed


def test_lane_count() -> None:
    assert lane_count(1, 100) == 1
    assert lane_count(3, 100) == 3
    assert lane_count(3, 2) == 2
    assert lane_count(2, 1) == 1


def test_pool_has_distinct_sessions(tiny_model: Path) -> None:
    pool = SharpenerPool(tiny_model, RuntimeConfig(threads=1), 2)
    assert len(pool.streams) == 2
    assert pool.streams[0].sharpener.session is not pool.streams[1].sharpener.session


def test_one_caller_per_stream(tiny_model: Path) -> None:
    pool = SharpenerPool(tiny_model, RuntimeConfig(threads=1), 1)
    borrowed = threading.Event()

    def second_caller() -> None:
        with pool.borrow():
            borrowed.set()

    with pool.borrow() as first:
        thread = threading.Thread(target=second_caller)
        thread.start()
        assert not borrowed.wait(0.3)  # the only stream is lent out: the second caller waits
    assert borrowed.wait(5)
    thread.join(5)
    assert first is pool.streams[0]


def test_stream_returns_and_raises_like_the_core(tiny_model: Path) -> None:
    stream = SharpenerPool(tiny_model, RuntimeConfig(threads=1), 1).streams[0]
    planes = list(np.random.default_rng(0).integers(0, 256, (3, 9, 13), dtype=np.uint8))
    got = stream.sharpen_planes(planes, 1.0)
    for a, b in zip(got, Sharpener(tiny_model).sharpen_planes(planes)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(InputError, match="strength"):
        stream.sharpen_planes(planes, 5.0)


def test_frames_of_a_stream_run_on_one_python_thread(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # VapourSynth callbacks get a fresh Python thread state each time, so the
    # core's per-thread buffers only survive between frames on the stream's own thread.
    local = threading.local()
    fresh: list[bool] = []
    original = Sharpener.sharpen_planes

    def recording(self: Sharpener, planes: list[np.ndarray], *, strength: float = 1.0, **levels) -> list[np.ndarray]:
        fresh.append(getattr(local, "seen", False) is False)
        local.seen = True
        return original(self, planes, strength=strength, **levels)

    monkeypatch.setattr(Sharpener, "sharpen_planes", recording)
    clip = vs.core.std.BlankClip(format=vs.RGB24, width=32, height=24, length=6)
    for _ in kdsharp_vs.sharpen(clip, 1.0, tiny_model).frames():
        pass
    assert fresh == [True, False, False, False, False, False]
