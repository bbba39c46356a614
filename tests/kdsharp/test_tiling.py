"""Tile planning: coverage, alignment, bounds."""

from __future__ import annotations

import numpy as np
import pytest

from kdsharp import tiling


@pytest.mark.parametrize("h, w", [(1, 1), (3, 1000), (1080, 1920), (517, 263)])
@pytest.mark.parametrize("tile, overlap, multiple", [(0, 8, 4), (64, 8, 4), (256, 16, 8), (100, 10, 4), (600, 213, 16), (0, 213, 16)])
def test_spans_cover_content_once_and_align(h: int, w: int, tile: int, overlap: int, multiple: int) -> None:
    layout = tiling.plan(h, w, tile=tile, overlap=overlap, multiple=multiple)
    assert layout.padded_height % multiple == 0 and layout.padded_width % multiple == 0
    # The reflect margin is the overlap, up to MAX_BORDER: a 213-px context does not pad a photo by 213 px.
    assert layout.margin % multiple == 0 and layout.margin >= min(overlap, tiling.MAX_BORDER)
    assert layout.margin <= tiling.round_up(max(overlap, tiling.MAX_BORDER), multiple)
    context = tiling.round_up(overlap, multiple)
    for spans, size, padded in ((layout.rows, h, layout.padded_height), (layout.cols, w, layout.padded_width)):
        kept = [(s.keep_start, s.keep_stop) for s in spans]
        assert kept[0][0] == layout.margin and kept[-1][1] == layout.margin + size
        assert all(a[1] == b[0] for a, b in zip(kept, kept[1:]))
        for s in spans:
            assert s.start % multiple == 0 and (s.stop - s.start) % multiple == 0
            assert 0 <= s.start <= s.keep_start < s.keep_stop <= s.stop <= padded
            if tile:
                assert s.stop - s.start <= max(tile, padded if padded <= tile else tile)
            # Context on the inner sides is at least the overlap.
            assert s.start == 0 or s.keep_start - s.start >= context
            assert s.stop == padded or s.stop - s.keep_stop >= context


def test_pad_reflects_and_handles_single_pixels() -> None:
    img = np.arange(2 * 3 * 1, dtype=np.uint8).reshape(2, 3, 1)
    layout = tiling.plan(2, 3, tile=0, overlap=4, multiple=4)
    padded = tiling.pad(img, layout)
    assert padded.shape == (layout.padded_height, layout.padded_width, 1)
    m = layout.margin
    np.testing.assert_array_equal(padded[m : m + 2, m : m + 3], img)
    one = tiling.pad(np.full((1, 1, 3), 7, np.uint16), tiling.plan(1, 1, tile=0, overlap=8, multiple=4))
    assert (one == 7).all()


def test_tile_smaller_than_context_is_refused() -> None:
    with pytest.raises(ValueError):
        tiling.axis_spans(500, 16, 532, 35, 16, 4)


@pytest.mark.parametrize(("h", "w", "overlap", "multiple"), [(57, 83, 20, 4), (5, 7, 2, 4), (1, 9, 4, 4), (3, 3, 8, 4), (100, 40, 16, 16), (17, 18, 16, 1)])
def test_reflect_in_place_equals_pad(h: int, w: int, overlap: int, multiple: int) -> None:
    layout = tiling.plan(h, w, tile=0, overlap=overlap, multiple=multiple)
    content = np.random.default_rng(h * w).random((h, w)).astype(np.float32)
    plane = np.full((layout.padded_height, layout.padded_width), np.nan, np.float32)
    m = layout.margin
    plane[m : m + h, m : m + w] = content
    tiling.reflect_in_place(plane, layout, h, w)
    np.testing.assert_array_equal(plane, tiling.pad(content, layout))
