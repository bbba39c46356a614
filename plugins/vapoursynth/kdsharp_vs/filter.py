"""``sharpen(clip) -> clip``: the VapourSynth face of the kdsharp core.

Every frame is handed to ``kdsharp.Sharpener.sharpen`` unchanged in size; the
only work done here is moving planes in and out (``kdsharp_vs.formats``) and,
for YUV in ``mode="rgb"``, two ``core.resize`` conversions
(``kdsharp_vs.colorspace``). Every error reaches the user as
``vs.Error("kdsharp_vs.sharpen: ...")``.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import vapoursynth as vs

from kdsharp import KdsharpError, RuntimeConfig, ladder
from kdsharp.config import DEFAULT_PROVIDERS
from kdsharp.sharpener import MAX_STRENGTH
from kdsharp_vs import colorspace
from kdsharp_vs.formats import FormatError, PlaneCodec, codec_for, frame_full_range
from kdsharp_vs.streams import SharpenerPool, lane_count, stream_config

NAME = "kdsharp_vs.sharpen"

#: How YUV clips are sharpened (RGB and gray clips ignore ``mode``).
MODES = ("luma", "rgb")
DEFAULT_MODE = "luma"


def _error(message: str) -> vs.Error:
    return vs.Error(f"{NAME}: {message}")


@dataclass(frozen=True)
class FrameSharpener:
    """The frame function given to ``core.std.ModifyFrame``.

    Attributes:
        pool: the sharpener streams.
        codec: how this clip's planes map to the core's arrays.
        strength: 0 to ``MAX_STRENGTH``.
        full_range: fixed integer range, or ``None`` to read each frame's ``_Range``.
        lane, lanes: this instance gets frames ``lane, lane + lanes, …`` of the
            clip (see ``_in_lanes``); only used to name frames in errors.
    """

    pool: SharpenerPool
    codec: PlaneCodec
    strength: float
    full_range: bool | None
    lane: int = 0
    lanes: int = 1

    def __call__(self, n: int, f: vs.VideoFrame) -> vs.VideoFrame:
        """Return a copy of frame ``n`` (same properties) with its sharpened planes replaced."""
        codec = self.codec
        full = self.full_range
        if full is None:
            full = frame_full_range(f.props, codec.default_full_range)
        planes = [np.asarray(f[p]) for p in codec.planes]
        with self.pool.borrow() as stream:
            try:
                result = stream.sharpen_planes(planes, self.strength, **codec.levels(full))
            except KdsharpError as exc:
                raise _error(f"frame {n * self.lanes + self.lane}: {exc}") from None
        out = f.copy()
        for p, values in zip(codec.planes, result):
            np.copyto(np.asarray(out[p]), values)
        return out


def _in_lanes(clip: vs.VideoNode, frame_sharpener: FrameSharpener, lanes: int) -> vs.VideoNode:
    """Apply ``frame_sharpener`` to every frame, ``lanes`` frames at a time.

    VapourSynth runs one ``ModifyFrame`` instance's function for one frame at
    a time, so frame ``n`` goes to instance ``n % lanes``; the instances run
    in parallel and share the pool's streams.
    """
    if lanes == 1:
        return vs.core.std.ModifyFrame(clip, clip, frame_sharpener)
    parts = []
    for lane in range(lanes):
        part = vs.core.std.SelectEvery(clip, lanes, lane, modify_duration=False)
        parts.append(vs.core.std.ModifyFrame(part, part, replace(frame_sharpener, lane=lane, lanes=lanes)))
    # Interleave keeps each frame (and its properties) as is; the trim drops the padding of short lanes.
    return vs.core.std.Interleave(parts, modify_duration=False)[: clip.num_frames]


def _check_number(name: str, value: object, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise _error(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _error(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def _runtime_config(
    providers: Sequence[str] | str | None, threads: int | None, tile: int | None, overlap: int | None, num_streams: int
) -> RuntimeConfig:
    if providers is None:
        chosen = DEFAULT_PROVIDERS
    elif isinstance(providers, str):
        chosen = (providers,)
    elif isinstance(providers, Sequence) and providers and all(isinstance(p, str) for p in providers):
        chosen = tuple(providers)
    else:
        raise _error(f"providers must be a provider name or a list of them, got {providers!r}")
    config = RuntimeConfig(
        providers=chosen,
        threads=None if threads is None else _check_int("threads", threads, 1),
        tile=RuntimeConfig.tile if tile is None else _check_int("tile", tile, 0),
        overlap=None if overlap is None else _check_int("overlap", overlap, 0),
    )
    return stream_config(config, num_streams)


def sharpen(
    clip: vs.VideoNode,
    strength: float = 1.0,
    model: str | os.PathLike[str] | None = None,
    *,
    mode: str = DEFAULT_MODE,
    matrix: int | str | None = None,
    range: str | None = None,  # noqa: A002 - the name core.resize uses
    tile: int | None = None,
    overlap: int | None = None,
    providers: Sequence[str] | str | None = None,
    threads: int | None = None,
    num_streams: int = 1,
) -> vs.VideoNode:
    """Sharpen a clip with a kdsharp model.

    Args:
        clip: constant format and size. RGB (RGB24, RGB30, RGB48, RGBH, RGBS and
            any 8–16-bit RGB), GRAY (GRAY8, GRAY16, GRAYH, GRAYS, any 8–16 bits) or
            YUV of any subsampling (4:2:0, 4:2:2, 4:4:4, …) at 8–16 bits or float.
        strength: 0 returns the input, 1 the model's result, up to 2 extrapolates.
        model: ``None`` or ``"auto"`` (video's default): the largest rung of the
            ladder that holds the clip's frame rate with 20 % to spare, timed at
            this size on the providers that really run (with ``num_streams``
            streams each may take that many frame times), said in one line on
            stderr; or a rung (``"fast"``, ``"quality"``, ``"max"``), ``"nokd"``,
            or a path to a kdsharp ``.onnx``.
        mode: for YUV clips only. ``"luma"`` (default) sharpens the Y plane and
            copies chroma untouched; ``"rgb"`` converts to RGBS with
            ``core.resize`` (honouring ``matrix``/``range``), sharpens, and
            converts back.
        matrix: YUV matrix for ``mode="rgb"`` as a resize name (``"709"``,
            ``"170m"``, ``"470bg"``, ``"2020ncl"``, …) or ``_Matrix`` code;
            ``None`` reads the first frame's ``_Matrix``, and when that is
            unspecified uses BT.709 above 1024×576 and 170m below.
        range: ``"limited"`` or ``"full"`` for integer samples; ``None`` reads
            ``_Range`` (per frame, or the first frame's for ``mode="rgb"``),
            defaulting to limited for YUV and full for RGB and GRAY.
        tile: largest tile side fed to the network (0: never tile); ``None``
            uses the core's default (``RuntimeConfig.tile``).
        overlap: tile context in pixels; ``None`` uses the model's receptive radius (seamless).
        providers: onnxruntime execution providers in order of preference;
            ``None`` tries TensorRT, CUDA, then CPU.
        threads: CPU threads per stream; ``None`` splits the machine's between streams.
        num_streams: sessions running frames at the same time (see ``kdsharp_vs.streams``).

    Returns:
        A clip of the same format, size, length and frame properties.

    Raises:
        vs.Error: ``"kdsharp_vs.sharpen: ..."`` for a bad clip, argument or model.
    """
    if not isinstance(clip, vs.VideoNode):
        raise _error(f"clip must be a video clip (vs.VideoNode), got {type(clip).__name__}")
    try:
        codec = codec_for(clip.format)
    except FormatError as exc:
        raise _error(str(exc)) from None
    if clip.width == 0 or clip.height == 0:
        raise _error("the clip has a variable frame size; resize it to one size first (e.g. core.resize.Spline36)")
    strength = _check_number("strength", strength, 0.0, MAX_STRENGTH)
    if mode not in MODES:
        raise _error(f"mode must be one of {MODES}, got {mode!r}")
    num_streams = _check_int("num_streams", num_streams, 1)
    try:
        full_range = None if range is None else colorspace.parse_range(range)
        if matrix is not None:
            colorspace.parse_matrix(matrix)
    except ValueError as exc:
        raise _error(str(exc)) from None
    config = _runtime_config(providers, threads, tile, overlap, num_streams)
    if model is not None and not isinstance(model, (str, os.PathLike)):
        raise _error(f"model must be a shipped name or a path, got {type(model).__name__}")
    try:
        if model is None or model == ladder.AUTO:
            model = _auto_rung(clip, config, num_streams)
        pool = SharpenerPool(model if isinstance(model, str) else Path(model), config, num_streams)
    except KdsharpError as exc:
        raise _error(str(exc)) from None

    lanes = lane_count(num_streams, clip.num_frames)
    if int(clip.format.color_family) != vs.YUV or mode == "luma":
        return _in_lanes(clip, FrameSharpener(pool, codec, strength, full_range), lanes)
    rgb_codec = codec_for(vs.core.get_video_format(colorspace.RGB_FORMAT))
    return _through_rgb(clip, FrameSharpener(pool, rgb_codec, strength, True), matrix, range, lanes)


#: The rate ``auto`` aims for when a clip has a variable frame rate (fps 0/1).
VARIABLE_RATE_FPS = 30.0


def _auto_rung(clip: vs.VideoNode, config: RuntimeConfig, num_streams: int) -> str:
    """``model="auto"``: the ladder's timed choice for this clip's size and rate; says why on stderr."""
    fps = float(clip.fps) if clip.fps.numerator else VARIABLE_RATE_FPS
    # num_streams frames run at once: each may take num_streams frame times.
    choice = ladder.choose(clip.width, clip.height, fps / num_streams, config)
    rate = f"{fps:g} fps" + (f" over {num_streams} streams" if num_streams > 1 else "")
    print(f"kdsharp_vs: {choice.reason} [{rate}]", file=sys.stderr, flush=True)
    return choice.rung


def _through_rgb(
    clip: vs.VideoNode, frame_sharpener: FrameSharpener, matrix: int | str | None, range_: str | None, lanes: int
) -> vs.VideoNode:
    """``mode="rgb"`` for a YUV clip: resize to RGBS, sharpen, resize back, restore the frame properties."""
    if frame_sharpener.strength == 0.0:
        return clip  # the resize round trip would not be exact
    first_props = dict(clip.get_frame(0).props) if matrix is None or range_ is None else None
    try:
        conversion = colorspace.resolve(clip, matrix, range_, first_props)
    except ValueError as exc:
        raise _error(str(exc)) from None
    sharpened = _in_lanes(conversion.to_rgb(clip), frame_sharpener, lanes)
    return vs.core.std.CopyFrameProps(conversion.from_rgb(sharpened, clip), clip)
