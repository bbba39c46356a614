"""Errors of the command line, and turning library/OS errors into one-line messages."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from kdsharp.errors import KdsharpError


class FileProblem(KdsharpError):
    """One file cannot be read, converted or written.

    Attributes:
        path: the file concerned (an input or an output).
        problem: what is wrong, without the path (``"not an image (...)"``).
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class MissingExtra(KdsharpError):
    """A command needs an optional dependency that is not installed."""

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python package {module!r}, which is not installed; install it with: pip install 'kdsharp[{extra}]'"
        )


class UsageProblem(KdsharpError):
    """The arguments do not make sense together (exit status 2, like argparse)."""


_ERRNO_WORDS = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a parent is not a directory",
    errno.ENOSPC: "no space left on device",
    errno.EROFS: "read-only file system",
    errno.EEXIST: "already exists",
}


def describe_os_error(exc: OSError) -> str:
    """Short lowercase description of an ``OSError`` without its file name."""
    if exc.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[exc.errno]
    if exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    text = str(exc).strip()
    return text or type(exc).__name__


def import_extra(module: str, extra: str, purpose: str):  # type: ignore[no-untyped-def]
    """Import an optional dependency or raise ``MissingExtra`` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(module, extra, purpose) from None


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The top-level modules of ``modules`` that cannot be found (nothing is imported)."""
    import importlib.util

    def absent(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is None
        except (ImportError, ValueError):  # a finder that refuses it, or a module set to None
            return True

    return [m for m in modules if absent(m)]


def missing_extra_line(program: str, missing: list[str], extra: str) -> str:
    """The one line a console script prints when its extra is not installed."""
    names = ", ".join(repr(m) for m in missing)
    noun = "package" if len(missing) == 1 else "packages"
    return f"{program}: error: needs the Python {noun} {names}, not installed; install them with: pip install 'kdsharp[{extra}]'"


def launch(program: str, modules: tuple[str, ...], extra: str, entry: str, argv: list[str] | None) -> int:
    """Run a console script's ``entry`` (``module:function``) once its extra's modules are present,
    else print one line naming what is missing and the extra to install (exit status 1)."""
    import importlib
    import sys

    missing = missing_modules(modules)
    if missing:
        print(missing_extra_line(program, missing, extra), file=sys.stderr)
        return 1
    module, _, function = entry.partition(":")
    return int(getattr(importlib.import_module(module), function)(argv))
