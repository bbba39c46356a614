"""The model ladder, and choosing a rung for a host without the user knowing model names.

Three rungs, cheapest first (``RUNGS``):

* ``fast``: the real-time student, sized for a webcam on two CPU cores;
* ``quality``: a larger student for stills, and real time on GPUs;
* ``max``: the teacher itself, for stills when time does not matter.

Stills (``kdsharp sharpen``, GIMP) default to ``STILLS_RUNG``. Video (``kdsharp
video``, ``kdsharp-cam``, VapourSynth) defaults to ``AUTO``: ``choose`` times a
few frames of the real size with each installed rung on the providers that
really run, and keeps the largest that holds the frame rate with ``HEADROOM``
to spare. A rung that does not hold it ends the search (the ones above are
slower still). Every choice comes with one line saying what and why.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kdsharp import shipped
from kdsharp.config import RuntimeConfig
from kdsharp.errors import InputError
from kdsharp.sharpener import Sharpener

#: The ladder, cheapest first.
RUNGS: tuple[str, ...] = ("fast", "quality", "max")
#: What stills get when no model is named.
STILLS_RUNG = "quality"
#: The model name that asks for a timed choice (video's default).
AUTO = "auto"
#: A rung must run this much faster than the frame rate needs (1.2: 20 % to spare).
HEADROOM = 1.2
#: Frames timed per rung, after one warm-up frame.
TIMED_FRAMES = 3


def installed_rungs() -> tuple[str, ...]:
    """The rungs whose model files are installed, cheapest first."""
    return tuple(r for r in RUNGS if r in shipped.SHIPPED_MODELS and shipped.shipped_path(r).is_file())


def stills_model(model: str | Path | None) -> str | Path:
    """The model a stills host runs: the named one, else ``quality`` (the default model where it is not installed).

    Raises:
        InputError: ``auto`` (a timed choice needs a frame rate: stills have none).
    """
    if model is None:
        return STILLS_RUNG if STILLS_RUNG in installed_rungs() else shipped.DEFAULT_MODEL
    if str(model) == AUTO:
        raise InputError("model 'auto' chooses by frame rate, which stills do not have; name a rung (fast, quality, max)")
    return model


@dataclass(frozen=True)
class RungTime:
    """One rung timed on the real frame size: median milliseconds a frame, and where it ran."""

    rung: str
    ms: float
    providers: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """What ``choose`` picked: the rung, its loaded ``Sharpener``, the timings and one line of why."""

    rung: str
    sharpener: Sharpener
    times: tuple[RungTime, ...]
    reason: str


def _size_name(width: int, height: int) -> str:
    return f"{width}×{height}"


def noise_frame(height: int, width: int) -> np.ndarray:
    """A ``height × width × 3`` uint8 frame of seeded noise to time models on (speed does not depend on content)."""
    return (np.random.default_rng(0).random((height, width, 3)) * 255).astype(np.uint8)


def frame_ms(
    sharpener: Sharpener, frame: np.ndarray, frames: int = TIMED_FRAMES, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Median milliseconds ``sharpener`` takes for ``frame`` over ``frames`` runs (at least one), after a warm-up."""
    sharpener.sharpen(frame)
    took = []
    for _ in range(max(1, frames)):
        start = clock()
        sharpener.sharpen(frame)
        took.append((clock() - start) * 1000.0)
    return statistics.median(took)


def choose(
    width: int,
    height: int,
    fps: float,
    config: RuntimeConfig = RuntimeConfig(),
    *,
    rungs: Sequence[str] | None = None,
    headroom: float = HEADROOM,
    frames: int = TIMED_FRAMES,
    clock: Callable[[], float] = time.perf_counter,
    loader: Callable[[str, RuntimeConfig], Sharpener] | None = None,
) -> Choice:
    """Choose the largest rung that sharpens ``width × height`` frames at ``fps`` with ``headroom``.

    Args:
        width, height: the frames' size.
        fps: the source's frame rate (frames per second, > 0).
        config: how the rungs run (providers, threads); the same for each.
        rungs: the rungs to consider, cheapest first (default: every installed one).
        headroom: the frame time must be at most ``1000 / fps / headroom`` ms.
        frames: frames timed per rung, after a warm-up frame.
        clock: seconds (tests pass a fake one).
        loader: builds a ``Sharpener`` for a rung (tests pass a fake one).

    Returns:
        The choice. When no rung holds the rate, the cheapest one, and the reason says so.

    Raises:
        InputError: a bad size or frame rate, or no rung installed.
        ModelError, RuntimeFailure: a rung that cannot be loaded or run.
    """
    if width < 1 or height < 1:
        raise InputError(f"frame size must be at least 1×1, got {width}×{height}")
    if not fps > 0:
        raise InputError(f"frame rate must be above 0, got {fps!r}")
    candidates = tuple(rungs) if rungs is not None else installed_rungs()
    if not candidates:
        raise InputError("no model of the ladder is installed (weights/ holds none of fast, quality, max)")
    load = loader or (lambda rung, cfg: Sharpener(rung, config=cfg))
    budget = 1000.0 / fps / headroom
    frame = noise_frame(height, width)
    times: list[RungTime] = []
    best: tuple[str, Sharpener] | None = None
    first: tuple[str, Sharpener] | None = None
    for rung in candidates:
        sharpener = load(rung, config)
        times.append(RungTime(rung, frame_ms(sharpener, frame, frames, clock), tuple(sharpener.providers)))
        first = first or (rung, sharpener)
        if times[-1].ms > budget:
            break
        best = (rung, sharpener)
    timed = ", ".join(f"{t.rung} {t.ms:.1f} ms" for t in times)
    where = times[-1].providers[0] if times[-1].providers else "?"
    need = f"{_size_name(width, height)} at {fps:g} fps needs ≤ {budget:.1f} ms a frame with {round((headroom - 1) * 100)} % to spare"
    if best is None:
        assert first is not None
        return Choice(first[0], first[1], tuple(times),
                      f"model auto: {first[0]}, the quickest, though it does not hold the rate ({need}; {timed} on {where})")
    return Choice(best[0], best[1], tuple(times), f"model auto: {best[0]} ({need}; {timed} on {where})")
