"""The ladder: which rung a host gets, and the timed choice for video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kdsharp import InputError, RuntimeConfig, Sharpener, ladder, shipped


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Timed:
    """A stand-in for a rung's Sharpener: each frame takes ``ms`` on the fake clock."""

    def __init__(self, clock: _Clock, ms: float, providers: tuple[str, ...] = ("CPUExecutionProvider",)) -> None:
        self.clock, self.ms, self.providers, self.frames = clock, ms, list(providers), 0

    def sharpen(self, frame: np.ndarray) -> np.ndarray:
        self.frames += 1
        self.clock.now += self.ms / 1000.0
        return frame


def _choose(ms: dict[str, float], fps: float = 30.0, **kw):
    clock = _Clock()
    made: dict[str, _Timed] = {}

    def load(rung: str, config: RuntimeConfig) -> _Timed:
        made[rung] = _Timed(clock, ms[rung])
        return made[rung]

    choice = ladder.choose(1920, 1080, fps, rungs=tuple(ms), clock=clock, loader=load, **kw)  # type: ignore[arg-type]
    return choice, made


def test_two_cpu_cores_keep_fast_and_stop_timing_at_the_first_rung_too_slow() -> None:
    choice, made = _choose({"fast": 20.0, "quality": 180.0, "max": 9000.0})
    assert choice.rung == "fast" and choice.sharpener is made["fast"]
    assert [t.rung for t in choice.times] == ["fast", "quality"] and "max" not in made
    assert "fast" in choice.reason and "27.8 ms" in choice.reason and "quality 180.0 ms" in choice.reason
    assert made["fast"].frames == 1 + ladder.TIMED_FRAMES


def test_a_gpu_fast_enough_for_every_rung_gets_max() -> None:
    choice, _ = _choose({"fast": 1.5, "quality": 6.0, "max": 20.0})
    assert choice.rung == "max" and len(choice.times) == 3


def test_headroom_is_twenty_percent() -> None:
    assert _choose({"fast": 1.0, "quality": 27.0})[0].rung == "quality"  # 27 ≤ 33.3 / 1.2 = 27.8
    assert _choose({"fast": 1.0, "quality": 28.5})[0].rung == "fast"


def test_when_nothing_holds_the_rate_the_quickest_runs_and_says_so() -> None:
    choice, _ = _choose({"fast": 60.0, "quality": 300.0}, fps=60.0)
    assert choice.rung == "fast" and "does not hold the rate" in choice.reason


@pytest.mark.parametrize(("size", "fps", "words"), [((0, 10), 30.0, "frame size"), ((10, 10), 0.0, "frame rate"), ((10, 10), float("nan"), "frame rate")])
def test_bad_size_or_rate(size: tuple[int, int], fps: float, words: str) -> None:
    with pytest.raises(InputError, match=words):
        ladder.choose(*size, fps, rungs=("fast",))


def test_real_sharpeners_are_timed_and_the_chosen_one_is_returned_loaded(tiny_luma_model: Path) -> None:
    loads: list[str] = []

    def load(rung: str, config: RuntimeConfig) -> Sharpener:
        loads.append(rung)
        return Sharpener(tiny_luma_model, config=config)

    choice = ladder.choose(64, 48, 1.0, RuntimeConfig(threads=1), rungs=("fast", "quality"), loader=load)
    assert choice.rung == "quality" and loads == ["fast", "quality"]
    assert all(t.ms > 0 and t.providers == ("CPUExecutionProvider",) for t in choice.times)
    out = choice.sharpener.sharpen(np.zeros((48, 64, 3), np.uint8))
    assert out.shape == (48, 64, 3)


def test_stills_get_quality_and_auto_is_refused() -> None:
    assert ladder.stills_model("fast") == "fast" and ladder.stills_model(Path("m.onnx")) == Path("m.onnx")
    assert ladder.installed_rungs() == ladder.RUNGS  # the whole ladder ships (issue 16, fourth session)
    assert ladder.stills_model(None) == "quality"
    with pytest.raises(InputError, match="frame rate"):
        ladder.stills_model("auto")


def test_stills_fall_back_to_the_default_model_without_quality(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ladder, "installed_rungs", lambda: ("fast", "max"))
    assert ladder.stills_model(None) == shipped.DEFAULT_MODEL
