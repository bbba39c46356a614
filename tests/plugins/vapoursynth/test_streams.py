"""kdsharp_vs.streams: thread split and one frame per stream at a time."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kdsharp import RuntimeConfig
from kdsharp_vs.streams import SharpenerPool, lane_count, stream_config

pytestmark = pytest.mark.vapoursynth


def test_stream_config_splits_threads() -> None:
    base = RuntimeConfig()
    assert stream_config(base, 1) is base
    assert stream_config(base, 2).threads == max(1, (os.cpu_count() or 1) // 2)
    assert stream_config(base, 1000).threads == 1
    fixed = RuntimeConfig(threads=3)
    assert stream_config(fixed, 4) is fixed


def test_pool_has_distinct_sessions(tiny_model: Path) -> None:
    pool = SharpenerPool(tiny_model, RuntimeConfig(threads=1), 2)
    assert len(pool.streams) == 2
    assert pool.streams[0].session is not pool.streams[1].session


def test_one_caller_per_stream(tiny_model: Path) -> None:
    pool = SharpenerPool(tiny_model, RuntimeConfig(threads=1), 1)
    borrowed = threading.Event()
    with pool.borrow() as first:
        thread = threading.Thread(target=lambda: pool.borrow().__enter__() and borrowed.set())
        thread.start()
        assert not borrowed.wait(0.3)  # the only stream is lent out: the second caller waits
    assert borrowed.wait(5)
    thread.join(5)
    assert first is pool.first


def test_lane_count() -> None:
    assert lane_count(1, 100) == 1
    assert lane_count(3, 100) == 3
    assert lane_count(3, 2) == 2
    assert lane_count(1, 1) == 1
