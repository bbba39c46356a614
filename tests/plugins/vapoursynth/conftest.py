"""Fixtures for the VapourSynth filter: real clips from real photos, in any format.

These tests need VapourSynth, which needs Python >= 3.12, so they run from
``.venv-vs`` (``scripts/setup_vs_venv.sh``):

    .venv-vs/bin/python -m pytest -m vapoursynth tests/plugins/vapoursynth tests/bench

A run whose ``-m`` expression deselects ``vapoursynth`` (the main 3.11 suite)
does not even import these modules; any other run without VapourSynth fails
loudly at import.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest


def _deselected_by_markers(config: pytest.Config) -> bool:
    expression = config.getoption("markexpr", "") or ""
    if not expression:
        return False
    from _pytest.mark.expression import Expression

    return not Expression.compile(expression).evaluate(lambda name, **_: name == "vapoursynth")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip collecting this folder only where VapourSynth is absent AND the run deselects it anyway."""
    if importlib.util.find_spec("vapoursynth") is None and _deselected_by_markers(config):
        return True
    return None


#: The same region size cut from each photo: not a multiple of the tiny model's
#: size multiple (4), and even, so 4:2:0 and 4:2:2 clips can be made from it.
PHOTO_HEIGHT, PHOTO_WIDTH = 66, 90


def photos() -> list[np.ndarray]:
    """Three real photos from scikit-image, each cut to ``PHOTO_HEIGHT × PHOTO_WIDTH × 3`` uint8 RGB."""
    from skimage import data

    cuts = [
        (data.astronaut(), 120, 160),
        (data.coffee(), 40, 300),
        (data.chelsea(), 60, 140),
    ]
    return [np.ascontiguousarray(image[y : y + PHOTO_HEIGHT, x : x + PHOTO_WIDTH, :3]) for image, y, x in cuts]


def clip_from_rgb(images: list[np.ndarray]) -> Any:
    """An RGB24 clip whose frame ``n`` holds ``images[n]`` (``H×W×3`` uint8)."""
    import vapoursynth as vs

    h, w = images[0].shape[:2]
    blank = vs.core.std.BlankClip(format=vs.RGB24, width=w, height=h, length=len(images))

    def paint(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        out = f.copy()
        for p in range(3):
            np.copyto(np.asarray(out[p]), images[n][:, :, p])
        return out

    return vs.core.std.ModifyFrame(blank, blank, paint)


def convert(clip: Any, fmt: Any) -> Any:
    """``clip`` (RGB24) in ``fmt`` through ``core.resize``: YUV as BT.709 limited range, GRAY as full range."""
    import vapoursynth as vs

    fmt = vs.core.get_video_format(fmt)
    if fmt.color_family == vs.RGB:
        return vs.core.resize.Point(clip, format=fmt.id)
    range_s = "full" if fmt.color_family == vs.GRAY else "limited"
    return vs.core.resize.Spline36(clip, format=fmt.id, matrix_s="709", range_s=range_s)


@pytest.fixture(scope="session")
def photo_clip() -> Callable[[Any], Any]:
    """``photo_clip(fmt)``: three frames of real photos in VapourSynth format ``fmt``."""
    rgb = clip_from_rgb(photos())
    return lambda fmt: convert(rgb, fmt)


@pytest.fixture(scope="session")
def blank_clip() -> Callable[[Any], Any]:
    """``blank_clip(fmt)``: a three-frame ``std.BlankClip`` of a mid-grey-ish colour in ``fmt``."""
    import vapoursynth as vs

    def make(fmt: Any) -> Any:
        fmt = vs.core.get_video_format(fmt)
        if fmt.sample_type == vs.FLOAT:
            color = [0.4, 0.55, 0.3] if fmt.color_family == vs.RGB else [0.4, 0.05, -0.1]
        else:
            scale = 1 << (fmt.bits_per_sample - 8)
            color = [100 * scale, 140 * scale, 60 * scale]
        return vs.core.std.BlankClip(
            format=fmt.id, width=PHOTO_WIDTH, height=PHOTO_HEIGHT, length=3, color=color[: fmt.num_planes]
        )

    return make
