"""``kdsharp sharpen IN... -o OUT``: sharpen image files and folders.

Folders are searched recursively for PNG, JPEG, TIFF, WebP and BMP files and
their relative paths are kept under ``OUT``. A file that fails is reported on
one line and the batch goes on; the failures are listed at the end and the
exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kdsharp.cli import runtime
from kdsharp.cli.atomic import atomic_output
from kdsharp.cli.images import FORMAT_BY_SUFFIX, WRITE_FORMATS, Picture, read_image, write_image
from kdsharp.cli.problems import FileProblem, UsageProblem, describe_os_error
from kdsharp.errors import KdsharpError

if TYPE_CHECKING:
    from kdsharp.sharpener import Sharpener

SIDE_BY_SIDE_SUFFIX = "-side-by-side"


@dataclass(frozen=True)
class Job:
    """One input file and where its results go.

    Attributes:
        source: the input file.
        target: the sharpened output (equal to ``source`` with ``--in-place``).
        format: Pillow format to write, or ``None`` for the source's own.
        comparison: where the input | output image goes, if asked for.
    """

    source: Path
    target: Path
    format: str | None
    comparison: Path | None


def add_parser(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Register the ``sharpen`` command."""
    p = commands.add_parser(
        "sharpen",
        parents=parents,
        help="sharpen image files and folders",
        description="Sharpen PNG, JPEG, TIFF, WebP and BMP images (8/16-bit, gray, alpha, palette, CMYK). "
        "Folders are searched recursively and their structure is kept under OUT.",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="image files or folders")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="output folder, or output file for a single input file")
    p.add_argument("--in-place", action="store_true", help="replace the input files (atomically) instead of writing new ones")
    p.add_argument("--suffix", default="", help="add this to output file names, e.g. _sharp; without -o writes beside the inputs")
    p.add_argument("--format", choices=[f.lower() for f in WRITE_FORMATS], default=None, help="output format (default: the input's)")
    p.add_argument(
        "--quality", type=_quality, default=None, help="JPEG/WebP quality 1-100 (default: keep a JPEG's own quality tables, else 95/90)"
    )
    p.add_argument(
        "--strength", type=runtime.strength_arg, default=1.0, help="0 = unchanged, 1 = the model, up to 2 = stronger (default: 1)"
    )
    p.add_argument("--side-by-side", action="store_true", help=f"also write input | output comparisons (<name>{SIDE_BY_SIDE_SUFFIX}.<ext>)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    runtime.add_runtime_options(p)
    p.set_defaults(run=run)


def _quality(text: str) -> int:
    value = runtime.positive_int(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"must be from 1 to 100, got {value}")
    return value


def plan_jobs(
    inputs: list[Path],
    output: Path | None,
    *,
    in_place: bool,
    suffix: str,
    fmt: str | None,
    side_by_side: bool,
) -> tuple[list[Job], list[FileProblem]]:
    """Expand inputs into jobs.

    Returns:
        The jobs, and problems found while planning (a missing input, an output
        that would overwrite its input or another output).

    Raises:
        UsageProblem: options that contradict each other.
    """
    if in_place and output is not None:
        raise UsageProblem("--in-place replaces the inputs; it cannot be combined with -o")
    if in_place and (fmt or suffix):
        raise UsageProblem("--in-place keeps names and formats; it cannot be combined with --format or --suffix")
    if not in_place and output is None and not suffix:
        raise UsageProblem("say where to write: -o OUT, --suffix SUFFIX (beside the inputs) or --in-place")
    forced = fmt.upper() if fmt else None
    problems: list[FileProblem] = []
    sources: list[tuple[Path, Path]] = []  # (file, path relative to the output folder)
    output_resolved = _resolve(output) if output is not None else None
    if output is not None and output_resolved is None:
        raise FileProblem(output, "a symbolic link loop (the link leads back to itself)")
    for item in inputs:
        if item.is_dir():
            found = _scan_folder(item, skip=output_resolved)
            if not found:
                problems.append(FileProblem(item, "folder holds no PNG, JPEG, TIFF, WebP or BMP files"))
            sources.extend((f, f.relative_to(item)) for f in found)
        elif item.is_symlink() and _resolve(item) is None:
            problems.append(FileProblem(item, "a symbolic link loop (the link leads back to itself)"))
        elif item.exists() or item.is_symlink():
            sources.append((item, Path(item.name)))
        else:
            problems.append(FileProblem(item, "no such file or directory"))

    single_file = output is not None and len(inputs) == 1 and not inputs[0].is_dir() and not output.is_dir()
    if output is not None and not single_file and not output.is_dir() and output.suffix.lower() in FORMAT_BY_SUFFIX:
        raise UsageProblem(f"-o {output}: several inputs or a folder need an output folder, not a file name")
    if single_file and output is not None and output.suffix:
        if output.suffix.lower() not in FORMAT_BY_SUFFIX:
            names = ", ".join(sorted(FORMAT_BY_SUFFIX))
            raise UsageProblem(f"{output}: cannot tell the output format from {output.suffix!r} (use one of {names})")
        forced = forced or FORMAT_BY_SUFFIX[output.suffix.lower()]
    elif single_file:
        single_file = False  # "-o name" without a suffix is a folder to create

    jobs: list[Job] = []
    seen: dict[Path, Path] = {}
    for source, rel in sources:
        if in_place:
            target = source
        elif single_file and output is not None:
            target = output
        else:
            base = output / rel if output is not None else source
            name = base.stem + suffix + (WRITE_FORMATS[forced] if forced else base.suffix)
            target = base.with_name(name)
        key = _resolve(target)
        if key is None:
            problems.append(FileProblem(target, "a symbolic link loop (the link leads back to itself)"))
            continue
        if not in_place and key == _resolve(source):
            problems.append(FileProblem(source, "the output would overwrite the input (use --in-place to replace inputs)"))
            continue
        if key in seen:
            problems.append(FileProblem(source, f"its output {target} is also the output of {seen[key]}"))
            continue
        seen[key] = source
        comparison = target.with_name(target.stem + SIDE_BY_SIDE_SUFFIX + target.suffix) if side_by_side else None
        jobs.append(Job(source=source, target=target, format=forced, comparison=comparison))
    return jobs, problems


def _resolve(path: Path) -> Path | None:
    """``path.resolve()``, or None for a symbolic link loop (Python 3.11 raises RuntimeError, 3.13 OSError)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def _scan_folder(folder: Path, skip: Path | None) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted), leaving out hidden files and the output folder."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel_parts = path.relative_to(folder).parts
        if any(part.startswith(".") for part in rel_parts):
            continue
        real = _resolve(path)
        if real is None or (skip is not None and (real == skip or skip in real.parents)):
            continue
        if path.suffix.lower() in FORMAT_BY_SUFFIX and path.is_file():
            found.append(path)
    return found


def side_by_side(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Input | output, left to right: ``H×W×C`` twice -> ``H×2W×C`` (same dtype)."""
    return np.concatenate([before, after], axis=1)


def process(job: Job, sharpener: Sharpener, strength: float, quality: int | None) -> tuple[str, ...]:
    """Read, sharpen and write one job (and its comparison).

    Returns:
        The decoder's warnings about the input (the job still succeeded).

    Raises:
        FileProblem: naming the file at fault.
        KdsharpError: from the core, for this file.
    """
    picture: Picture = read_image(job.source)
    try:
        result = _sharpen_pixels(sharpener, picture.pixels, strength)
    except KdsharpError as exc:
        raise FileProblem(job.source, str(exc)) from None
    except MemoryError:
        raise FileProblem(job.source, "not enough memory to sharpen this image (try a smaller --tile)") from None
    fmt = job.format or picture.format
    _write(job.target, result, fmt, picture, quality, keep_mode_of=job.source if job.target == job.source else None)
    if job.comparison is not None:
        _write(job.comparison, side_by_side(picture.pixels, result), fmt, picture, quality, keep_mode_of=None)
    return picture.warnings


def _sharpen_pixels(sharpener: Sharpener, pixels: np.ndarray, strength: float) -> np.ndarray:
    """Sharpen through the core. Float values outside 0–1 (HDR, scientific data) are kept: the
    model sees the image clipped to 0–1, and its correction is added to the original values."""
    if pixels.dtype.kind != "f" or (pixels.min() >= 0.0 and pixels.max() <= 1.0):
        return sharpener.sharpen(pixels, strength=strength)
    clipped = np.clip(pixels, 0.0, 1.0)
    return pixels + (sharpener.sharpen(clipped, strength=strength) - clipped)


def _write(target: Path, pixels: np.ndarray, fmt: str, picture: Picture, quality: int | None, keep_mode_of: Path | None) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileProblem(target.parent, f"cannot create output folder ({describe_os_error(exc)})") from None
    with atomic_output(target, keep_mode_of=keep_mode_of) as temp:
        try:
            write_image(pixels, temp, fmt, picture.metadata, quality=quality)
        except FileProblem as exc:
            raise FileProblem(target, exc.problem) from None
        except (ValueError, TypeError, KeyError) as exc:  # Pillow refusing an option/mode combination
            raise FileProblem(target, f"cannot write {fmt} ({exc})") from None


def run(args: argparse.Namespace) -> int:
    """Run ``kdsharp sharpen``; returns the exit status."""
    jobs, problems = plan_jobs(
        args.inputs,
        args.output,
        in_place=args.in_place,
        suffix=args.suffix,
        fmt=args.format,
        side_by_side=args.side_by_side,
    )
    for problem in problems:
        print(f"kdsharp: error: {problem}", file=sys.stderr)
    failed: list[FileProblem] = list(problems)
    if jobs:
        sharpener = runtime.load_sharpener(args)
        failed += _run_jobs(jobs, sharpener, args)
    total = len(jobs) + len(problems)
    if failed and total > 1:
        print(f"kdsharp: {len(failed)} of {total} inputs failed:", file=sys.stderr)
        for problem in failed:
            print(f"  {problem}", file=sys.stderr)
    return 1 if failed else 0


def _run_jobs(jobs: list[Job], sharpener: Sharpener, args: argparse.Namespace) -> list[FileProblem]:
    from tqdm import tqdm

    failed: list[FileProblem] = []
    bar = tqdm(jobs, unit="image", disable=args.quiet or len(jobs) < 2, file=sys.stderr, dynamic_ncols=True)
    for job in bar:
        bar.set_postfix_str(job.source.name, refresh=False)
        try:
            for warning in process(job, sharpener, args.strength, args.quality):
                tqdm.write(f"kdsharp: warning: {job.source}: {warning}", file=sys.stderr)
        except FileProblem as exc:
            failed.append(exc)
            tqdm.write(f"kdsharp: error: {exc}", file=sys.stderr)
    bar.close()
    return failed
