"""The options every model-running command shares, and building a ``Sharpener`` from them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from kdsharp.config import DEFAULT_PROVIDERS, RuntimeConfig

if TYPE_CHECKING:
    from kdsharp.sharpener import Sharpener

#: Short provider names accepted by ``--providers``; full onnxruntime names are accepted too.
PROVIDER_ALIASES: dict[str, str] = {
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


def providers_arg(text: str) -> tuple[str, ...]:
    """Parse ``cuda,cpu`` (or full onnxruntime provider names) into a provider tuple."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one provider, e.g. cpu or cuda,cpu")
    out = []
    for name in names:
        full = PROVIDER_ALIASES.get(name.lower(), name)
        if not full.endswith("ExecutionProvider"):
            choices = ", ".join(PROVIDER_ALIASES)
            raise argparse.ArgumentTypeError(f"unknown provider {name!r} (use {choices} or an onnxruntime provider name)")
        out.append(full)
    return tuple(out)


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _whole_number(text, 0)


def strength_arg(text: str) -> float:
    """argparse type: a strength from 0 to 2."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 2.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 2, got {value:g}")
    return value


#: ``--model`` for every command: the ladder's rungs, ``auto`` for video, a shipped control or a file.
MODEL_HELP = (
    "a rung of the ladder (fast: real time on 2 CPU cores; quality: stills, real time on GPUs; max: the teacher), "
    "auto (video: the largest rung that holds the frame rate, timed at start), the no-teacher controls nokd and quality_nokd, "
    "or a kdsharp .onnx path (default: quality for stills, auto for video)"
)


def add_runtime_options(parser: argparse.ArgumentParser, *, tile: bool = True) -> None:
    """Add ``--model``, ``--providers``, ``--threads``, ``--tile``, ``--float32`` and ``--verbose``."""
    group = parser.add_argument_group("model and runtime")
    group.add_argument("--model", default=None, help=MODEL_HELP)
    group.add_argument(
        "--providers",
        type=providers_arg,
        default=DEFAULT_PROVIDERS,
        help="execution providers in order of preference, e.g. cpu or cuda,cpu (default: tensorrt,cuda,cpu)",
    )
    group.add_argument("--threads", type=positive_int, default=None, help="CPU threads (default: OMP_NUM_THREADS or one per core)")
    if tile:
        group.add_argument(
            "--tile",
            type=non_negative_int,
            default=RuntimeConfig.tile,
            help=f"largest tile side in pixels; 0 never tiles (default: {RuntimeConfig.tile})",
        )
    group.add_argument(
        "--float32",
        action="store_true",
        help="on the CPU, run the float32 model even where it has an int8 sibling (shipped for quality: about "
        "1.75x faster here, within 55 dB PSNR of float32)",
    )
    group.add_argument("--verbose", action="store_true", help="show onnxruntime's own log lines")


def runtime_config(args: argparse.Namespace) -> RuntimeConfig:
    """The ``RuntimeConfig`` the runtime options describe."""
    return RuntimeConfig(
        providers=args.providers,
        threads=args.threads,
        tile=getattr(args, "tile", RuntimeConfig.tile),
        verbose=args.verbose,
        int8=not getattr(args, "float32", False),
    )


def load_sharpener(args: argparse.Namespace) -> Sharpener:
    """Load the model the options name for stills (default ``quality``).

    Raises the core's ``InputError`` (``auto``), ``ModelError`` or ``RuntimeFailure``.
    """
    from kdsharp import ladder
    from kdsharp.sharpener import Sharpener

    return Sharpener(ladder.stills_model(args.model), config=runtime_config(args))


def load_for_video(args: argparse.Namespace, width: int, height: int, fps: float, say: Callable[[str], None]) -> Sharpener:
    """Load the model for ``width × height`` video at ``fps``: the named one, or the timed ``auto`` choice.

    ``say`` receives the one line that tells what ``auto`` chose and why.
    """
    from kdsharp import ladder
    from kdsharp.sharpener import Sharpener

    if args.model is not None and args.model != ladder.AUTO:
        return Sharpener(args.model, config=runtime_config(args))
    choice = ladder.choose(width, height, fps, runtime_config(args))
    say(choice.reason)
    return choice.sharpener
