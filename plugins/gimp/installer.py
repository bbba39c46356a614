"""Install and remove the GIMP 3 plug-in (``kdsharp install gimp`` / ``kdsharp uninstall gimp``).

Installing writes two files into ``<plug-ins>/kdsharp/``:

- ``kdsharp.py``: the plug-in (this package's ``plugin.py``), executable, as
  GIMP 3 requires (``plug-ins/<name>/<name>.py``);
- ``kdsharp.json``: ``{"python": <this interpreter>}``, so the plug-in knows
  which Python runs ``-m kdsharp_gimp.worker`` with the core and onnxruntime.

``<plug-ins>`` is the user's GIMP 3 plug-in folder (``plugins_dir``) unless a
prefix is given.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from importlib import resources
from pathlib import Path

from kdsharp import __version__
from kdsharp.errors import KdsharpError

PLUGIN_NAME = "kdsharp"
CONFIG_FILE = "kdsharp.json"
SOURCE = "plugin.py"


class InstallError(KdsharpError):
    """The plug-in could not be installed or removed (message names the path)."""


def plugins_dir() -> Path:
    """The current user's GIMP 3.0 plug-in folder.

    ``GIMP3_DIRECTORY`` (GIMP's own override of its profile folder) wins;
    otherwise ``%APPDATA%\\GIMP\\3.0`` on Windows,
    ``~/Library/Application Support/GIMP/3.0`` on macOS and
    ``$XDG_CONFIG_HOME/GIMP/3.0`` (default ``~/.config``) elsewhere, each
    followed by ``plug-ins``.
    """
    override = os.environ.get("GIMP3_DIRECTORY")
    if override:
        return Path(override) / "plug-ins"
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        base = Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME")
        base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "GIMP" / "3.0" / "plug-ins"


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        tmp.chmod(mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def install(prefix: Path | None = None) -> Path:
    """Install the plug-in for GIMP 3.

    Args:
        prefix: the plug-in folder to install into; ``None`` uses ``plugins_dir()``.

    Returns:
        The installed plug-in script, ``<prefix>/kdsharp/kdsharp.py``.

    Raises:
        InstallError: the folder cannot be written.
    """
    target = Path(prefix if prefix is not None else plugins_dir()) / PLUGIN_NAME
    script = resources.files("kdsharp_gimp").joinpath(SOURCE).read_bytes()
    settings = {"python": sys.executable, "kdsharp_version": __version__}
    try:
        target.mkdir(parents=True, exist_ok=True)
        exec_mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
        _write_atomic(target / CONFIG_FILE, json.dumps(settings, indent=2).encode() + b"\n", 0o644)
        _write_atomic(target / f"{PLUGIN_NAME}.py", script, exec_mode)
    except OSError as exc:
        raise InstallError(f"cannot install the GIMP plug-in into {target}: {exc.strerror or exc}") from None
    return target / f"{PLUGIN_NAME}.py"


def uninstall(prefix: Path | None = None) -> bool:
    """Remove the plug-in installed by ``install``.

    Only kdsharp's own files are removed; the ``kdsharp`` folder goes too
    once it is empty.

    Args:
        prefix: the plug-in folder given to ``install``; ``None`` uses ``plugins_dir()``.

    Returns:
        True if something was removed, False if nothing was installed there.

    Raises:
        InstallError: the files exist but cannot be removed.
    """
    target = Path(prefix if prefix is not None else plugins_dir()) / PLUGIN_NAME
    removed = False
    try:
        for name in (f"{PLUGIN_NAME}.py", CONFIG_FILE):
            path = target / name
            if path.is_file():
                path.unlink()
                removed = True
        cache = target / "__pycache__"
        if cache.is_dir():
            for entry in cache.glob(f"{PLUGIN_NAME}.*.pyc"):
                entry.unlink()
            if not any(cache.iterdir()):
                cache.rmdir()
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
    except OSError as exc:
        raise InstallError(f"cannot remove the GIMP plug-in from {target}: {exc.strerror or exc}") from None
    return removed
