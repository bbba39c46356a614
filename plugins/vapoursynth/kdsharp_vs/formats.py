"""How the samples of a VapourSynth clip format become the core's arrays and back.

The core takes ``H×W×C`` (or ``H×W``) arrays of uint8, uint16, float16 or
float32 with floats in 0–1 (``kdsharp.pixels``). VapourSynth stores planes
separately and allows any integer depth from 8 to 16 bits at full or limited
range, so each frame is mapped like this:

* float planes (RGBS, RGBH, GRAYS, GRAYH, YUV…PS/PH) go to the core as they are;
* integer planes (8–16 bits, uint8 or uint16) go as they are too, with their
  depth and range (``PlaneCodec.levels``): the core maps codes to 0–1 and back
  with its own rounding, exactly for every code, so strength 0 is the identity
  and 8- or 16-bit full range equals ``Sharpener.sharpen`` bit for bit.

Limited range means Y' (or R'G'B') codes ``16·2^(b-8)`` to ``235·2^(b-8)``
map to 0–1, as zimg (``core.resize``) defines it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import vapoursynth as vs

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

#: Float depths (bits) -> dtype; the core takes both as they are.
FLOAT_DTYPES: dict[int, np.dtype] = {16: np.dtype(np.float16), 32: np.dtype(np.float32)}


class FormatError(ValueError):
    """A clip format this filter cannot sharpen; the message names it and what is supported."""


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

    def levels(self, full_range: bool) -> dict[str, Any]:
        """The keyword arguments of ``Sharpener.sharpen_planes`` that say how to read the samples.

        Integer planes go to the core as they are, with their depth and range
        (the core maps codes to 0–1 and back); float planes are 0–1 already.
        """
        if self.sample_type == vs.FLOAT:
            return {}
        return {"limited_range": not full_range, "bits": self.bits}


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
