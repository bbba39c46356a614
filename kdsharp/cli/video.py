"""``kdsharp video IN -o OUT``: sharpen every frame of a video file with PyAV.

Frames are decoded, converted to RGB (``rgb24``, or ``rgb48le`` for sources
deeper than 8 bits) with the source's colour matrix and range, sharpened by
the core, converted back with the same matrix and range and encoded. Frame
timestamps and the stream time base are kept, so the frame rate (constant or
variable) is too. Audio streams are copied packet by packet (remuxed, not
re-encoded). The output appears atomically when everything is written.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from kdsharp.cli import runtime
from kdsharp.cli.atomic import atomic_output
from kdsharp.cli.problems import FileProblem, UsageProblem, describe_os_error, import_extra
from kdsharp.errors import KdsharpError

#: Container suffix -> default encoder.
DEFAULT_CODECS: dict[str, str] = {".webm": "libvpx-vp9"}
FALLBACK_CODEC = "libx264"
#: Encoders taking ``crf``/``preset`` options.
CRF_CODECS = ("libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1")
DEFAULT_CRF = 18
#: Output pixel formats tried in order when the encoder cannot take the source's.
PIX_FMT_PREFERENCE = ("yuv420p", "yuv444p", "gbrp", "bgr0", "rgb24")
PIX_FMT_PREFERENCE_DEEP = ("yuv420p10le", "yuv444p10le", "gbrp16le", "yuv420p16le") + PIX_FMT_PREFERENCE


def add_parser(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Register the ``video`` command."""
    p = commands.add_parser(
        "video",
        parents=parents,
        help="sharpen a video file (needs the video extra: PyAV)",
        description="Sharpen every frame of a video file, keeping its timing and copying its audio.",
    )
    p.add_argument("input", type=Path, metavar="IN", help="input video file")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="output video file; its suffix picks the container")
    p.add_argument(
        "--codec",
        default=None,
        help=f"video encoder, e.g. libx264, libx265, libvpx-vp9, ffv1 (default: {FALLBACK_CODEC}, libvpx-vp9 for .webm)",
    )
    p.add_argument(
        "--crf",
        type=runtime.non_negative_int,
        default=None,
        help=f"quality for x264/x265/vp9/av1, lower is better (default: {DEFAULT_CRF})",
    )
    p.add_argument("--preset", default=None, help="encoder speed preset, e.g. veryfast, medium, slow (x264/x265)")
    p.add_argument("--pix-fmt", default=None, help="output pixel format (default: the source's when the encoder takes it)")
    p.add_argument("--codec-option", action="append", default=[], metavar="KEY=VALUE", help="extra encoder option (repeatable)")
    p.add_argument(
        "--yuv-conversion",
        choices=("accurate", "fast"),
        default="accurate",
        help="YUV<->RGB scaling: accurate (bicubic, full chroma, exact rounding; round trips within 1) or fast (bilinear)",
    )
    p.add_argument("--no-audio", action="store_true", help="leave audio out instead of copying it")
    p.add_argument(
        "--strength", type=runtime.strength_arg, default=1.0, help="0 = unchanged, 1 = the model, up to 2 = stronger (default: 1)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    runtime.add_runtime_options(p)
    p.set_defaults(run=run)


def interpolation(av: Any, mode: str) -> Any:
    """swscale flags for the YUV<->RGB conversions (``None``: PyAV's bilinear default)."""
    if mode == "fast":
        return None
    flags = av.video.reformatter.Interpolation
    return flags.BICUBIC | flags.ACCURATE_RND | flags.FULL_CHR_H_INT | flags.FULL_CHR_H_INP


def encoder_options(codec: str, crf: int | None, preset: str | None, extra: list[str]) -> dict[str, str]:
    """The option dict handed to the encoder."""
    options: dict[str, str] = {}
    if codec in CRF_CODECS:
        options["crf"] = str(DEFAULT_CRF if crf is None else crf)
        if codec == "libvpx-vp9":
            options["b"] = "0"  # constant quality mode
    elif crf is not None:
        options["crf"] = str(crf)
    if preset:
        options["preset"] = preset
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageProblem(f"--codec-option wants KEY=VALUE, got {item!r}")
        options[key] = value
    return options


def choose_pix_fmt(av: Any, codec: str, source: str, deep: bool, wanted: str | None) -> str:
    """The output pixel format: ``wanted``, else the source's if the encoder takes it, else a preferred one."""
    supported = [f.name for f in (av.codec.Codec(codec, "w").video_formats or ())]
    if wanted:
        if supported and wanted not in supported:
            raise UsageProblem(f"encoder {codec} cannot take pixel format {wanted} (it takes {', '.join(supported)})")
        return wanted
    if not supported or source in supported:
        return source
    for name in PIX_FMT_PREFERENCE_DEEP if deep else PIX_FMT_PREFERENCE:
        if name in supported:
            return name
    return supported[0]


def _open_input(av: Any, path: Path) -> Any:
    if not path.exists():
        raise FileProblem(path, "no such file or directory")
    if path.is_dir():
        raise FileProblem(path, "is a directory")
    try:
        if path.stat().st_size == 0:
            raise FileProblem(path, "empty file")
        return av.open(str(path))
    except (OSError, av.error.FFmpegError) as exc:
        raise FileProblem(path, f"not a readable video ({_ffmpeg_text(exc)})") from None


def _ffmpeg_text(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def run(args: argparse.Namespace) -> int:
    """Run ``kdsharp video``; returns the exit status."""
    av = import_extra("av", "video", "kdsharp video")
    source: Path = args.input
    target: Path = args.output
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise FileProblem(source, "the output would overwrite the input; write to another file")
    codec = args.codec or DEFAULT_CODECS.get(target.suffix.lower(), FALLBACK_CODEC)
    try:
        av.codec.Codec(codec, "w")
    except Exception:
        raise UsageProblem(f"no video encoder named {codec!r} in this PyAV/FFmpeg build") from None
    options = encoder_options(codec, args.crf, args.preset, args.codec_option)
    container = _open_input(av, source)
    with container:
        if not container.streams.video:
            raise FileProblem(source, "has no video stream")
        vin = container.streams.video[0]
        rate = vin.average_rate or vin.guessed_rate or Fraction(25, 1)
        sharpener = runtime.load_for_video(
            args, vin.codec_context.width, vin.codec_context.height, float(rate),
            lambda line: None if args.quiet else print(f"kdsharp: {line}", file=sys.stderr, flush=True),
        )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FileProblem(target.parent, f"cannot create output folder ({describe_os_error(exc)})") from None
        with atomic_output(target) as temp:
            _transcode(av, container, temp, target, sharpener, codec, options, args)
    return 0


def _transcode(
    av: Any, container: Any, temp: Path, target: Path, sharpener: Any, codec: str, options: dict[str, str], args: argparse.Namespace
) -> None:
    from tqdm import tqdm

    vin = container.streams.video[0]
    vin.thread_type = "AUTO"
    audio = [] if args.no_audio else list(container.streams.audio)
    source_fmt = vin.codec_context.pix_fmt or "yuv420p"
    deep = max((c.bits for c in av.VideoFormat(source_fmt).components), default=8) > 8
    rgb_fmt = "rgb48le" if deep else "rgb24"
    try:
        output = av.open(str(temp), "w")
    except (OSError, ValueError, av.error.FFmpegError) as exc:
        raise FileProblem(
            target, f"cannot write this container ({_ffmpeg_text(exc)}); use a suffix such as .mkv, .mp4, .mov or .webm"
        ) from None
    with output:
        rate = vin.average_rate or vin.guessed_rate or Fraction(25, 1)
        vout = output.add_stream(codec, rate=rate, options=options)
        vout.width = vin.codec_context.width
        vout.height = vin.codec_context.height
        vout.pix_fmt = choose_pix_fmt(av, codec, source_fmt, deep, args.pix_fmt)
        vout.time_base = vin.time_base
        _copy_colour_tags(vin.codec_context, vout.codec_context)
        aouts = {}
        for stream in audio:
            try:
                aouts[stream.index] = output.add_stream_from_template(stream)
            except (OSError, ValueError, av.error.FFmpegError) as exc:
                raise FileProblem(target, f"cannot copy audio stream {stream.index} into this container ({exc}); use --no-audio") from None
        scaling = interpolation(av, args.yuv_conversion)
        bar = tqdm(total=_frame_count(container, vin), unit="frame", disable=args.quiet, file=sys.stderr, dynamic_ncols=True)
        count = 0
        try:
            for packet in container.demux([vin, *audio]):
                if packet.stream.type == "video":
                    try:
                        frames = packet.decode()
                    except av.error.FFmpegError as exc:
                        raise FileProblem(args.input, f"corrupt video data ({_ffmpeg_text(exc)})") from None
                    for frame in frames:
                        try:
                            result = _sharpen_frame(av, frame, rgb_fmt, vout.pix_fmt, sharpener, args.strength, scaling)
                        except KdsharpError as exc:
                            raise FileProblem(args.input, f"frame {count}: {exc}") from None
                        if result.pts is None or result.time_base is None:  # raw streams carry no timestamps
                            result.pts, result.time_base = count, 1 / Fraction(rate)
                        _mux(output, _encode(vout, result, codec, target), target)
                        count += 1
                        bar.update(1)
                elif packet.dts is not None:
                    packet.stream = aouts[packet.stream.index]
                    _mux(output, [packet], target)
            _mux(output, _encode(vout, None, codec, target), target)
        except av.error.FFmpegError as exc:  # the demuxer meeting damaged data
            raise FileProblem(args.input, f"corrupt video data ({_ffmpeg_text(exc)})") from None
        finally:
            bar.close()


def _encode(stream: Any, frame: Any, codec: str, target: Path) -> Any:
    try:
        return stream.encode(frame)
    except (OSError, ValueError) as exc:  # PyAV's FFmpegError subclasses both
        raise FileProblem(target, f"encoder {codec} failed ({_ffmpeg_text(exc)}); try another --codec or --pix-fmt") from None


def _frame_count(container: Any, stream: Any) -> int | None:
    """Frames in the stream, from its header or estimated from duration × rate (for the progress bar)."""
    if stream.frames:
        return int(stream.frames)
    rate = stream.average_rate or stream.guessed_rate
    if stream.duration and stream.time_base and rate:
        return max(1, round(float(stream.duration * stream.time_base * rate)))
    if container.duration and rate:
        return max(1, round(container.duration / 1_000_000 * float(rate)))
    return None


def _mux(output: Any, packets: Any, target: Path) -> None:
    try:
        output.mux(packets)
    except (OSError, ValueError) as exc:  # PyAV's FFmpegError subclasses derive from one of these
        raise FileProblem(target, f"cannot write ({_ffmpeg_text(exc)})") from None


def _copy_colour_tags(src: Any, dst: Any) -> None:
    """Tag the output with the source's colour matrix, range, primaries and transfer."""
    for name in ("color_range", "colorspace", "color_primaries", "color_trc"):
        value = getattr(src, name, None)
        if value:
            try:
                setattr(dst, name, value)
            except (AttributeError, TypeError, ValueError):
                pass


def _sharpen_frame(av: Any, frame: Any, rgb_fmt: str, out_fmt: str, sharpener: Any, strength: float, scaling: Any) -> Any:
    """Decoded frame -> RGB ``H×W×3`` -> core -> a frame in ``out_fmt`` with the same timestamp."""
    colour: dict[str, Any] = {} if scaling is None else {"interpolation": scaling}
    if getattr(frame, "color_range", 0):
        colour["src_color_range"] = frame.color_range
    rgb = frame.to_ndarray(format=rgb_fmt, **colour)
    sharp = sharpener.sharpen(np.ascontiguousarray(rgb), strength=strength)
    new = av.VideoFrame.from_ndarray(sharp, format=rgb_fmt)
    back: dict[str, Any] = {} if scaling is None else {"interpolation": scaling}
    if getattr(frame, "color_range", 0):
        back["dst_color_range"] = frame.color_range
    if getattr(frame, "colorspace", 0) not in (0, 2, None):
        back["dst_colorspace"] = frame.colorspace
        new.colorspace = frame.colorspace
    out = new.reformat(format=out_fmt, **back)
    out.pts = frame.pts
    out.time_base = frame.time_base
    return out
