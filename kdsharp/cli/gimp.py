"""``kdsharp install gimp`` / ``kdsharp uninstall gimp``: put the GIMP 3 plug-in where GIMP finds it.

The work is done by ``kdsharp_gimp.installer`` (imported only here, when asked).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kdsharp.errors import KdsharpError

#: Installable targets -> the module that installs them.
TARGETS: dict[str, str] = {"gimp": "kdsharp_gimp.installer"}


def add_parser(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    """Register the ``install`` and ``uninstall`` commands."""
    for verb in ("install", "uninstall"):
        p = commands.add_parser(
            verb,
            parents=parents,
            help=f"{verb} a host plug-in (gimp)",
            description=f"{verb.capitalize()} the kdsharp plug-in for a host application.",
        )
        p.add_argument("target", choices=sorted(TARGETS), help="the host")
        p.add_argument("--prefix", type=Path, default=None, help="plug-in folder to use instead of GIMP's per-user default")
        p.set_defaults(run=run, verb=verb)


def _installer(target: str) -> Any:
    import importlib

    try:
        return importlib.import_module(TARGETS[target])
    except ImportError as exc:
        raise KdsharpError(f"the {target} plug-in is not part of this kdsharp installation ({exc})") from None


def run(args: argparse.Namespace) -> int:
    """Call the installer's ``install(prefix)`` or ``uninstall(prefix)`` and report where it acted."""
    installer = _installer(args.target)
    try:
        result = getattr(installer, args.verb)(args.prefix)
    except OSError as exc:
        from kdsharp.cli.problems import describe_os_error

        where = exc.filename or args.prefix or "the GIMP plug-in folder"
        raise KdsharpError(f"{where}: cannot {args.verb} the {args.target} plug-in ({describe_os_error(exc)})") from None
    if args.verb == "install":
        print(f"kdsharp: {args.target} plug-in installed ({result})")
    elif result is False:
        print(f"kdsharp: no {args.target} plug-in was installed there; nothing removed")
    else:
        print(f"kdsharp: {args.target} plug-in uninstalled")
    return 0
