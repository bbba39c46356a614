"""The crop grid: detailed windows, several photos, 2× nearest-neighbour, labels drawn on the image."""

from __future__ import annotations

import numpy as np
import torch
from kdsharp_train.figures import CropGrid, detail_window


def _photo(detail_at: tuple[int, int], seed: int, side: int = 128) -> torch.Tensor:
    img = torch.full((3, side, side), 0.5)
    y, x = detail_at
    g = torch.Generator().manual_seed(seed)
    img[:, y : y + 32, x : x + 32] = torch.rand(3, 32, 32, generator=g)
    return img


def test_detail_window_finds_the_textured_patch() -> None:
    score, y, x = detail_window(_photo((64, 80), 0), 32)
    assert (y, x) == (64, 80) and score > 0
    assert detail_window(torch.full((3, 64, 64), 0.3), 32)[0] == 0


def test_grid_rows_take_several_photos_and_are_labelled_at_2x() -> None:
    photos = [_photo((0, 0), 0), torch.full((3, 128, 128), 0.5), _photo((96, 96), 1)]
    grid = CropGrid(photos, ("a", "b", "c"), side=32, sources=2)
    assert {grid.photo_for(d) for d in ("a", "b", "c")} == {0, 2}  # the flat photo is never shown
    for d in ("a", "b", "c"):
        i = grid.photo_for(d)
        grid.add(d, "input", photos[i])
        grid.add(d, "a long method name that wraps", photos[i][None])
    strip = grid.strip("a")
    assert strip.shape == (64, 64 * 2 + 4, 3)
    _, y, x = detail_window(photos[grid.photo_for("a")], 32)
    cell = strip[:, :64]
    crop = (photos[grid.photo_for("a")][:, y : y + 32, x : x + 32].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(cell[::2, ::2], crop) and np.array_equal(cell[1::2, 1::2], crop)  # nearest 2×
    full = grid.grid()
    assert full.shape[0] > 3 * 64 and full.shape[1] > 2 * 64
    header = full[:30, 118:]
    assert (header < 128).any()  # the column labels are drawn in black
    assert grid.grid(("c",)).shape[0] < full.shape[0]
