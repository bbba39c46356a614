"""Receptive radius of the U-Nets (the teacher and the ``quality`` student): the context the core's tiles need."""

from __future__ import annotations

from collections.abc import Sequence


def unet_radius(enc_blocks: Sequence[int], middle_blocks: int, dec_blocks: Sequence[int]) -> int:
    """Pixels of context per side that one output pixel of a U-Net depends on.

    For U-Nets whose blocks each hold one 3×3 conv (dense or depthwise) at their level, that go down with
    2×2 stride-2 convs and up with steps that add no context (1×1 conv + pixel shuffle, or 2×2 stride-2
    transposed conv), between a 3×3 conv in and a 3×3 conv out at full resolution. A 3×3 conv at level
    ``l`` reaches ``2**l`` pixels, a down from level ``l`` another ``2**l``. Exact for every alignment of
    the output pixel to the coarsest grid (checked by brute force in the tests).

    Args:
        enc_blocks: blocks per encoder level, finest first.
        middle_blocks: blocks at the coarsest level, ``len(enc_blocks)``.
        dec_blocks: blocks per decoder level, coarsest first.
    """
    depth = len(enc_blocks)
    r = 2  # the convs in and out
    r += sum((n + 1) * 2**level for level, n in enumerate(enc_blocks))
    r += middle_blocks * 2**depth
    r += sum(n * 2 ** (depth - 1 - i) for i, n in enumerate(dec_blocks))
    return r
