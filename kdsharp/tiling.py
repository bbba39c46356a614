"""Padding and overlapping tiles that give the same result as one whole pass.

Coordinates are in the *padded* image: the original placed at ``(margin,
margin)``, reflect-padded by ``margin`` (the overlap, at most ``MAX_BORDER``) on
every side and further on the bottom/right up to a multiple of the model's size
multiple ``m``.

Every window starts on a multiple of ``m`` and every window edge that is not
an image edge lies at least ``overlap`` pixels from the pixels it delivers, so
with ``overlap`` at least the model's receptive radius each output pixel sees
exactly the input it would see in an untiled pass (same strided phase, same
context).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def round_up(value: int, multiple: int) -> int:
    """Smallest multiple of ``multiple`` that is >= ``value``."""
    return -(-value // multiple) * multiple


@dataclass(frozen=True)
class Span:
    """One tile along one axis, in padded coordinates.

    Attributes:
        start, stop: the input window fed to the network.
        keep_start, keep_stop: the output pixels kept from it.
    """

    start: int
    stop: int
    keep_start: int
    keep_stop: int


@dataclass(frozen=True)
class Layout:
    """How one image is padded and cut.

    Attributes:
        margin: reflect padding before the content on both axes.
        padded_height, padded_width: size of the padded image.
        rows, cols: the tiles along each axis; the grid is their product.
    """

    margin: int
    padded_height: int
    padded_width: int
    rows: tuple[Span, ...]
    cols: tuple[Span, ...]


def axis_spans(content: int, margin: int, padded: int, tile: int, overlap: int, multiple: int) -> tuple[Span, ...]:
    """Cut one axis of ``padded`` pixels into windows of at most ``tile``.

    Args:
        content: the original size along this axis.
        margin: where the content starts (a multiple of ``multiple``).
        padded: the padded size (a multiple of ``multiple``).
        tile: the largest window; ``0`` means never cut.
        overlap: context on each side (a multiple of ``multiple``).
        multiple: the model's size multiple.
    """
    stop = margin + content
    if tile <= 0 or padded <= tile:
        return (Span(0, padded, margin, stop),)
    core = (tile - 2 * overlap) // multiple * multiple
    if core < multiple:
        raise ValueError(f"tile {tile} is too small for overlap {overlap} and size multiple {multiple}")
    spans = []
    keep = margin
    while keep < stop:
        keep_stop = min(keep + core, stop)
        spans.append(
            Span(
                start=max(0, keep - overlap),
                stop=min(padded, round_up(keep_stop, multiple) + overlap),
                keep_start=keep,
                keep_stop=keep_stop,
            )
        )
        keep = keep_stop
    return tuple(spans)


#: The most reflect padding put around an image: a model whose context reaches farther
#: (the teacher's 213 px) sees its own zero padding beyond it, in every window alike.
MAX_BORDER = 32


def plan(height: int, width: int, *, tile: int, overlap: int, multiple: int) -> Layout:
    """Plan padding and tiles for an ``height × width`` image.

    Args:
        height, width: image size, each >= 1.
        tile: the largest window side (0: one window).
        overlap: context per side; rounded up to ``multiple``.
        multiple: the model's size multiple.

    The reflect margin is the overlap, up to ``MAX_BORDER`` (rounded up to ``multiple``).
    Tiled output still equals untiled: a window at an image edge starts at the padded
    image's edge, where the untiled pass starts too, so both see the same margin and the
    same zeros beyond it; inner window edges keep the full overlap of real content.
    A wide-context model would otherwise spend most of a small image's time on padding
    (the teacher: 1.9× the pixels of a megapixel photo with a 213-px margin).
    """
    overlap = round_up(max(overlap, 0), multiple)
    margin = round_up(min(overlap, MAX_BORDER), multiple)
    padded_h = round_up(height + 2 * margin, multiple)
    padded_w = round_up(width + 2 * margin, multiple)
    return Layout(
        margin=margin,
        padded_height=padded_h,
        padded_width=padded_w,
        rows=axis_spans(height, margin, padded_h, tile, overlap, multiple),
        cols=axis_spans(width, margin, padded_w, tile, overlap, multiple),
    )


def pad(image: np.ndarray, layout: Layout) -> np.ndarray:
    """Reflect-pad an ``H×W`` plane or ``H×W×C`` image to the layout's padded size (same dtype, contiguous)."""
    h, w = image.shape[:2]
    m = layout.margin
    widths = ((m, layout.padded_height - h - m), (m, layout.padded_width - w - m)) + ((0, 0),) * (image.ndim - 2)
    if h == 1 or w == 1:
        # numpy's reflect needs two pixels to mirror; a single row/column repeats.
        return np.pad(image, widths, mode="symmetric")
    return np.pad(image, widths, mode="reflect")


def reflect_in_place(plane: np.ndarray, layout: Layout, height: int, width: int) -> None:
    """Fill the borders of a padded ``plane`` whose content sits at ``(margin, margin)``, as ``pad`` would.

    The content (``height × width``) is already in place; the borders get the same
    values ``pad`` gives the content, without copying the content again. Content too
    small to mirror by slicing (narrower than a border, or one pixel wide) falls back
    to ``pad``.
    """
    m = layout.margin
    top, bottom = m, layout.padded_height - height - m
    left, right = m, layout.padded_width - width - m
    if min(height, width) < 2 or max(top, bottom) > height - 1 or max(left, right) > width - 1:
        plane[...] = pad(np.ascontiguousarray(plane[m : m + height, m : m + width]), layout)
        return
    cols = slice(m, m + width)
    last = m + height - 1
    if top:
        dst = np.arange(top)
        plane[dst, cols] = plane[2 * top - dst, cols]
    if bottom:
        dst = np.arange(last + 1, last + 1 + bottom)
        plane[dst, cols] = plane[2 * last - dst, cols]
    last = m + width - 1
    if left:
        dst = np.arange(left)
        plane[:, dst] = plane[:, 2 * left - dst]
    if right:
        dst = np.arange(last + 1, last + 1 + right)
        plane[:, dst] = plane[:, 2 * last - dst]
