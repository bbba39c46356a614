"""The YUV → RGB → YUV round trip of ``mode="rgb"``, through ``core.resize``.

The matrix, range and chroma location are fixed for the whole clip, because
``core.resize`` takes them as clip-level arguments in the RGB → YUV
direction: given by the caller, else read from the clip's first frame, else
the usual defaults (BT.709 above 1024×576, BT.601 / SMPTE 170M at or below it;
limited range; left chroma siting). Transfer and primaries are not touched:
the network sees the clip's gamma-encoded R'G'B' and the output keeps every
frame property of the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import vapoursynth as vs

from kdsharp_vs.formats import frame_full_range

#: ``matrix`` strings accepted, as ``core.resize`` spells them (``matrix_s``).
MATRIX_NAMES: dict[str, int] = {
    "709": 1,
    "fcc": 4,
    "470bg": 5,
    "170m": 6,
    "240m": 7,
    "ycgco": 8,
    "2020ncl": 9,
    "2020cl": 10,
    "chromancl": 12,
    "chromacl": 13,
    "ictcp": 14,
}

#: ``range`` strings accepted -> full range?
RANGE_NAMES: dict[str, bool] = {"limited": False, "full": True}

MATRIX_UNSPECIFIED = 2
MATRIX_RGB = 0

#: The RGB intermediate: float, so no rounding happens between the two conversions.
RGB_FORMAT = vs.RGBS


@dataclass(frozen=True)
class YuvConversion:
    """How one YUV clip is taken to RGB and back.

    Attributes:
        matrix: ``_Matrix`` code (1 = BT.709, 6 = SMPTE 170M, …), never 0 or 2.
        full_range: whether the YUV samples are full range.
        chromaloc: ``_ChromaLocation`` code (0 = left).
    """

    matrix: int
    full_range: bool
    chromaloc: int

    def to_rgb(self, clip: vs.VideoNode) -> vs.VideoNode:
        """Convert ``clip`` to RGBS with Spline36 chroma upsampling.

        ``core.resize`` prefers frame properties to its ``*_in`` arguments
        (R81), so the properties are overwritten first; the output gets the
        input's own properties back in ``filter.sharpen``.
        """
        range_prop = "_Range" if int(vs.RANGE_FULL) == 1 else "_ColorRange"  # renamed, codes flipped, in R74
        marked = vs.core.std.SetFrameProps(
            vs.core.std.RemoveFrameProps(clip, ["_Range", "_ColorRange"]),
            _Matrix=self.matrix,
            _ChromaLocation=self.chromaloc,
            **{range_prop: int(vs.RANGE_FULL if self.full_range else vs.RANGE_LIMITED)},
        )
        return vs.core.resize.Spline36(
            marked,
            format=RGB_FORMAT,
            matrix_in=self.matrix,
            range_in_s=self.range_name,
            chromaloc_in=self.chromaloc,
        )

    def from_rgb(self, rgb: vs.VideoNode, like: vs.VideoNode) -> vs.VideoNode:
        """Convert RGBS back to ``like``'s format with the same matrix, range and siting."""
        return vs.core.resize.Spline36(
            rgb,
            format=like.format.id,
            matrix=self.matrix,
            range_s=self.range_name,
            chromaloc=self.chromaloc,
        )

    @property
    def range_name(self) -> str:
        """``"full"`` or ``"limited"``: resize's string form, the same in every release.

        (The integer codes flipped in R74.)
        """
        return "full" if self.full_range else "limited"


def default_matrix(width: int, height: int) -> int:
    """BT.709 for HD sizes, SMPTE 170M (BT.601) for SD, as players guess."""
    return 1 if width > 1024 or height > 576 else 6


def parse_matrix(matrix: int | str) -> int:
    """Turn a ``matrix`` argument into a ``_Matrix`` code.

    Raises:
        ValueError: unknown name or code, or RGB/unspecified.
    """
    if isinstance(matrix, str):
        if matrix not in MATRIX_NAMES:
            raise ValueError(f"matrix must be one of {sorted(MATRIX_NAMES)} or a _Matrix code, got {matrix!r}")
        return MATRIX_NAMES[matrix]
    if isinstance(matrix, bool) or not isinstance(matrix, int) or matrix not in MATRIX_NAMES.values():
        raise ValueError(f"matrix must be one of {sorted(MATRIX_NAMES)} or a _Matrix code, got {matrix!r}")
    return matrix


def parse_range(value: str) -> bool:
    """Turn a ``range`` argument (``"limited"`` or ``"full"``) into full-range-or-not.

    Raises:
        ValueError: anything else.
    """
    if value not in RANGE_NAMES:
        raise ValueError(f"range must be 'limited' or 'full', got {value!r}")
    return RANGE_NAMES[value]


def resolve(
    clip: vs.VideoNode, matrix: int | str | None, range_: str | None, first_props: Mapping[str, Any] | None
) -> YuvConversion:
    """Settle the conversion of a YUV clip.

    Args:
        clip: the YUV clip (for its size).
        matrix: the caller's ``matrix`` or ``None``.
        range_: the caller's ``range`` or ``None``.
        first_props: properties of the clip's first frame, or ``None`` when
            both arguments are given (the frame is then never requested).

    Raises:
        ValueError: a bad argument or a frame property saying RGB.
    """
    props = first_props or {}
    if matrix is not None:
        code = parse_matrix(matrix)
    else:
        code = int(props.get("_Matrix", MATRIX_UNSPECIFIED))
        if code == MATRIX_RGB:
            raise ValueError(
                "the first frame's _Matrix says RGB but the clip is YUV; pass matrix='709' (or the right one)"
            )
        if code == MATRIX_UNSPECIFIED:
            code = default_matrix(clip.width, clip.height)
    full = parse_range(range_) if range_ is not None else frame_full_range(props, default=False)
    return YuvConversion(matrix=code, full_range=full, chromaloc=int(props.get("_ChromaLocation", 0)))
