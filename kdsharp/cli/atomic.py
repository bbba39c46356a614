"""Atomic output files: write a temporary file beside the target, then ``os.replace``.

A reader of the target sees either the old file (or none) or the complete new
one, never a half-written file, even when the writer fails or is killed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from collections.abc import Iterator

from kdsharp.cli.problems import FileProblem, describe_os_error


def temporary_sibling(target: Path) -> Path:
    """A fresh hidden name in ``target``'s folder that keeps its suffix (so writers can infer the format)."""
    return target.with_name(f".{target.stem}.kdsharp-{secrets.token_hex(4)}.tmp{target.suffix}")


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(target: Path, *, keep_mode_of: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target``.

    Args:
        target: the final output path. Its folder must exist.
        keep_mode_of: copy this file's permission bits (``--in-place``);
            otherwise the file gets the usual ``0666 & ~umask``.

    Raises:
        FileProblem: the folder is not writable or the rename fails (naming ``target``).
        Whatever the body raises, after removing the temporary file.
    """
    temp = temporary_sibling(target)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except OSError as exc:
        raise FileProblem(target, f"cannot write output ({describe_os_error(exc)})") from None
    try:
        yield temp
        mode = stat.S_IMODE(keep_mode_of.stat().st_mode) if keep_mode_of is not None else _default_mode()
        os.chmod(temp, mode)
        os.replace(temp, target)
    except OSError as exc:
        _remove_quietly(temp)
        raise FileProblem(target, f"cannot write output ({describe_os_error(exc)})") from None
    except BaseException:
        _remove_quietly(temp)
        raise


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
