"""The `kdsharp` command line (sharpen, video, info, bench, install/uninstall gimp).

``main(argv)`` is the console script's entry point; each command lives in a
module named for what it does and imports its optional dependencies (Pillow,
tqdm, PyAV, OpenCV) only when it runs.
"""

from kdsharp.cli.main import main

__all__ = ["main"]
