"""The benchmarks' one timer: warm-up calls, then the median of timed calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times; the median wall time of one call, in ms."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)
