"""The ``kdsharp`` argument parser, command dispatch and error translation.

Every error kdsharp expects (``KdsharpError`` and its subclasses, which
include file problems) ends as ONE line on stderr and a non-zero exit status:
1 for failures, 2 for usage errors, 130 when interrupted. ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kdsharp.cli import bench, gimp, info, sharpen, video
from kdsharp.cli.problems import UsageProblem
from kdsharp.errors import KdsharpError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each command module registers its own subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    parser = argparse.ArgumentParser(
        prog="kdsharp",
        description="Real-time image and video sharpening with a distilled student network.",
    )
    parser.add_argument("--debug", action="store_true", default=False, help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"kdsharp {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (sharpen, video, info, bench, gimp):
        module.add_parser(commands, [common])
    return parser


def _version() -> str:
    from kdsharp import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        if debug:
            raise
        print("kdsharp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageProblem as exc:
        if debug:
            raise
        print(f"kdsharp {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KdsharpError as exc:
        if debug:
            raise
        print(f"kdsharp: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as exc:  # the promise is one line, never a traceback; --debug shows it
        if debug:
            raise
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"kdsharp: error: unexpected {type(exc).__name__}: {text} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILED
