"""The ``kdsharp-cam`` console script: checks that the ``cam`` extra is installed, then runs ``cli.main``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kdsharp.cli.problems import launch

#: What the ``cam`` extra brings, by import name.
CAM_MODULES = ("pyvirtualcam", "cv2")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kdsharp-cam``; returns the exit status."""
    return launch("kdsharp-cam", CAM_MODULES, "cam", "kdsharp_cam.cli:main", None if argv is None else list(argv))


if __name__ == "__main__":
    sys.exit(main())
