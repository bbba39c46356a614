"""How the samples of a VapourSynth clip format become the core's arrays and back.

The core takes ``H×W×C`` (or ``H×W``) arrays of uint8, uint16, float16 or
float32 with floats in 0–1 (``kdsharp.pixels``). VapourSynth stores planes
separately and allows any integer depth from 8 to 16 bits at full or limited
range, so each frame is mapped like this:

* float planes (RGBS, RGBH, GRAYS, GRAYH, YUV…PS/PH) go to the core as they are;
* full-range 8- and 16-bit integers go as uint8 / uint16 as they are, so the
  core's own rounding applies and the result equals ``Sharpener.sharpen``
  on the same array bit for bit;
* any other integer (9–15 bits, or limited range) goes as float32
  ``(sample - offset) / span`` and comes back as
  ``round(value * span + offset)`` clamped to the format's codes. Both
  directions are exact for every code, so strength 0 is the identity.

Limited range means Y' (or R'G'B') codes ``16·2^(b-8)`` to ``235·2^(b-8)``
map to 0–1, as zimg (``core.resize``) defines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import vapoursynth as vs

from kdsharp import pixels

#: Colour family -> the planes the core sharpens (YUV: luma only; chroma is copied).
SHARPENED_PLANES: dict[int, tuple[int, ...]] = {
    int(vs.RGB): (0, 1, 2),
    int(vs.GRAY): (0,),
    int(vs.YUV): (0,),
}

#: Colour family -> whether integer samples are full range when the frame does not say.
DEFAULT_FULL_RANGE: dict[int, bool] = {
    int(vs.RGB): True,
    int(vs.GRAY): True,
    int(vs.YUV): False,
}

#: Integer depths the core takes without conversion (at full range).
NATIVE_INTEGER_DTYPES: dict[int, np.dtype] = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16)}

#: Float depths (bits) -> dtype; the core takes both as they are.
FLOAT_DTYPES: dict[int, np.dtype] = {16: np.dtype(np.float16), 32: np.dtype(np.float32)}


class FormatError(ValueError):
    """A clip format this filter cannot sharpen; the message names it and what is supported."""


def integer_scale(bits: int, full_range: bool) -> pixels.Levels:
    """The core's ``Levels`` of ``bits``-bit codes at full or limited range (``full`` is the largest code)."""
    peak = (1 << bits) - 1
    if full_range:
        return pixels.Levels(offset=0.0, span=float(peak), full=float(peak))
    shift = 1 << (bits - 8)
    return pixels.Levels(offset=16.0 * shift, span=219.0 * shift, full=float(peak))


def frame_full_range(props: Mapping[str, Any], default: bool) -> bool:
    """Whether a frame's integer samples are full range, from its properties.

    Reads ``_Range`` (VapourSynth R74+: 0 limited, 1 full) or the older
    ``_ColorRange`` (0 full, 1 limited); ``default`` when neither is set.
    """
    if "_Range" in props:
        return int(props["_Range"]) == 1
    if "_ColorRange" in props:
        return int(props["_ColorRange"]) == 0
    return default


@dataclass(frozen=True)
class PlaneCodec:
    """Moves the sharpened planes of one clip format between frames and the core.

    Attributes:
        name: the format's name, for messages.
        planes: plane indices handed to the core, in order (R, G, B or the single plane).
        sample_type: ``vs.INTEGER`` or ``vs.FLOAT``.
        bits: bits per sample.
        default_full_range: integer range assumed when a frame has no range property.
    """

    name: str
    planes: tuple[int, ...]
    sample_type: int
    bits: int
    default_full_range: bool

    def scale(self, full_range: bool) -> pixels.Levels | None:
        """The integer mapping to use, or ``None`` when samples go to the core as they are."""
        if self.sample_type == vs.FLOAT:
            return None
        if full_range and self.bits in NATIVE_INTEGER_DTYPES:
            return None
        return integer_scale(self.bits, full_range)

    def to_core(self, planes: Sequence[np.ndarray], full_range: bool) -> list[np.ndarray]:
        """Build the core's input planes from the frame's planes.

        Args:
            planes: one ``H×W`` array per entry of ``self.planes`` (read-only views are fine).
            full_range: whether integer samples are full range.

        Returns:
            One ``H×W`` array per plane, for ``Sharpener.sharpen_planes``: the
            planes themselves when ``scale`` is ``None``, else float32 in 0–1
            (limited-range codes outside 16–235 fall outside 0–1).
        """
        scale = self.scale(full_range)
        if scale is None:
            return list(planes)
        result = []
        for plane in planes:
            values = plane.astype(np.float32)
            values -= np.float32(scale.offset)
            values *= np.float32(1.0 / scale.span)
            result.append(values)
        return result

    def from_core(self, result: Sequence[np.ndarray], planes: Sequence[np.ndarray], full_range: bool) -> None:
        """Write the core's result planes into the output frame's planes.

        Args:
            result: what ``Sharpener.sharpen_planes`` returned for ``to_core``'s planes
                (float planes are overwritten while they are turned into codes).
            planes: writable ``H×W`` views of the output frame, one per entry of ``self.planes``.
            full_range: the value given to ``to_core``.
        """
        scale = self.scale(full_range)
        for values, plane in zip(result, planes):
            if scale is not None:
                values = pixels.quantize(values, plane.dtype, scale)  # the core's rounding, clamped to the codes
            np.copyto(plane, values)


def codec_for(fmt: vs.VideoFormat | None) -> PlaneCodec:
    """The codec of a clip format.

    Args:
        fmt: ``clip.format``.

    Raises:
        FormatError: variable format, an unknown colour family, or integers deeper than 16 bits.
    """
    if fmt is None or int(fmt.color_family) not in SHARPENED_PLANES:
        raise FormatError(
            "the clip has a variable format; convert it to one format first "
            "(e.g. core.resize.Bicubic(clip, format=vs.YUV420P8))"
        )
    family = int(fmt.color_family)
    if fmt.sample_type == vs.INTEGER and not 8 <= fmt.bits_per_sample <= 16:
        raise FormatError(
            f"{fmt.name} has {fmt.bits_per_sample}-bit integer samples; "
            "supported are 8 to 16-bit integers and 16/32-bit floats"
        )
    if fmt.sample_type == vs.FLOAT and fmt.bits_per_sample not in FLOAT_DTYPES:
        raise FormatError(f"{fmt.name} has {fmt.bits_per_sample}-bit float samples; supported are 16 and 32 bits")
    return PlaneCodec(
        name=fmt.name,
        planes=SHARPENED_PLANES[family],
        sample_type=int(fmt.sample_type),
        bits=fmt.bits_per_sample,
        default_full_range=DEFAULT_FULL_RANGE[family],
    )
