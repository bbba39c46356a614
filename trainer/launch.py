"""The ``kdsharp-train`` console script: checks that the ``train`` extra is installed, then runs ``cli.main``.

``pip install kdsharp`` installs the script without the extra; without this check it
would end in an import traceback instead of one line saying what to install.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kdsharp.cli.problems import launch

#: What the ``train`` extra brings, by import name.
TRAIN_MODULES = ("torch", "onnx", "onnxscript", "safetensors", "pytorch_msssim", "skimage", "sklearn", "scipy", "matplotlib", "av", "cv2")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kdsharp-train``; returns the exit status."""
    return launch("kdsharp-train", TRAIN_MODULES, "train", "kdsharp_train.cli:main", None if argv is None else list(argv))


if __name__ == "__main__":
    sys.exit(main())
