"""Side-by-side crops for the model card and the README: one row per degradation, one column per method.

People look before they read, so the crops are chosen where differences show:
each photo's most detailed window (largest mean gradient: text, foliage, faces,
edges), from several photos (rows take the most detailed photos in turn). Crops
are enlarged 2× with nearest-neighbour (so no resampler hides or adds
sharpness), and labelled on the image itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from .train import rgb_to_luma

#: The rows of the README's picture: one case of each family, and ``clean``.
README_ROWS = ("gauss_s1.0", "motion_5", "area_cubic_2x", "jpeg420_q20", "h264_crf32", "chain_webcam", "clean")


def detail_window(img: torch.Tensor, side: int, stride: int = 16) -> tuple[float, int, int]:
    """The ``side``² window of ``C×H×W`` 0–1 ``img`` with the most detail: ``(score, y, x)``.

    The score is the window's mean absolute luma gradient (horizontal plus vertical).
    """
    y = (rgb_to_luma(img[None])[0, 0] if img.shape[0] == 3 else img.mean(0)).numpy()
    g = np.zeros_like(y)
    g[:, 1:] += np.abs(np.diff(y, axis=1))
    g[1:, :] += np.abs(np.diff(y, axis=0))
    h, w = g.shape
    side = min(side, h, w)
    integral = np.pad(g.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    best = (-1.0, 0, 0)
    for top in range(0, h - side + 1, stride):
        for left in range(0, w - side + 1, stride):
            s = integral[top + side, left + side] - integral[top, left + side] - integral[top + side, left] + integral[top, left]
            score = float(s) / side**2
            if score > best[0]:
                best = (score, top, left)
    return best


@dataclass
class CropGrid:
    """Collects the crops of one evaluation and draws them as a labelled grid.

    Args:
        photos: the evaluation photos, ``C×H×W`` 0–1.
        degradations: the row names, in order.
        side: crop side in the photo's pixels (drawn at 2×).
        sources: how many of the most detailed photos the rows take in turn.
    """

    photos: list[torch.Tensor]
    degradations: tuple[str, ...]
    side: int = 96
    sources: int = 4
    cells: dict[str, list[tuple[str, np.ndarray]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        found = [(detail_window(p, self.side), i) for i, p in enumerate(self.photos)]
        ranked = sorted(found, key=lambda t: -t[0][0])[: max(1, self.sources)]
        self.choice: dict[str, tuple[int, int, int]] = {}
        for j, name in enumerate(self.degradations):
            (_, top, left), i = ranked[j % len(ranked)]
            self.choice[name] = (i, top, left)

    def photo_for(self, degradation: str) -> int:
        """Which photo the row of ``degradation`` shows."""
        return self.choice[degradation][0]

    def add(self, degradation: str, label: str, img: torch.Tensor) -> None:
        """Add the cell ``label`` of row ``degradation`` from a full ``C×H×W`` (or ``1×C×H×W``) result."""
        _, top, left = self.choice[degradation]
        img = img[0] if img.dim() == 4 else img
        crop = img[:, top : top + self.side, left : left + self.side].clamp(0, 1)
        arr = (crop.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        if arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
        self.cells.setdefault(degradation, []).append((label, np.kron(arr, np.ones((2, 2, 1), np.uint8))))

    def strip(self, degradation: str) -> np.ndarray:
        """One row, unlabelled, cells separated by white gaps."""
        cells = [c for _, c in self.cells[degradation]]
        gap = np.full((cells[0].shape[0], 4, 3), 255, np.uint8)
        out: list[np.ndarray] = []
        for c in cells:
            out += [c, gap]
        return np.concatenate(out[:-1], axis=1)

    def grid(self, rows: tuple[str, ...] | None = None) -> np.ndarray:
        """The labelled grid of ``rows`` (default: every degradation that has cells)."""
        rows = tuple(r for r in (rows or self.degradations) if r in self.cells)
        labels = [label for label, _ in self.cells[rows[0]]]
        cell = self.cells[rows[0]][0][1].shape[0]
        gap, head, side = 4, 34, 118
        width = side + len(labels) * (cell + gap)
        height = head + len(rows) * (cell + gap)
        canvas = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(canvas)
        font = _font(12)
        for k, label in enumerate(labels):
            x = side + k * (cell + gap)
            for n, line in enumerate(_wrap(label, 30)[:2]):
                draw.text((x + 2, 2 + 14 * n), line, fill="black", font=font)
        for r, name in enumerate(rows):
            y = head + r * (cell + gap)
            draw.text((4, y + cell // 2 - 7), name, fill="black", font=font)
            for k, (_, arr) in enumerate(self.cells[name]):
                canvas.paste(Image.fromarray(arr), (side + k * (cell + gap), y))
        return np.asarray(canvas)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1: one bitmap size
        return ImageFont.load_default()


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return lines + ([line] if line else [])
