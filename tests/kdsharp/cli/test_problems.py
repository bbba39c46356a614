"""Console scripts whose extra is missing print one line naming it, never a traceback.

Each case runs the real entry point in a fresh interpreter where the extra's
modules cannot be imported (a meta-path finder refuses them, as a missing
package would), so it fails exactly as a ``pip install kdsharp`` without the
extra would.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

BLOCK = """
import sys, importlib.abc
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None
sys.meta_path.insert(0, Missing())
from {module} import {function}
sys.exit({function}({argv!r}))
"""


def _run(blocked: set[str], module: str, function: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    code = BLOCK.format(blocked=blocked, module=module, function=function, argv=argv)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("blocked", "module", "argv", "line"),
    [
        ({"torch", "safetensors"}, "kdsharp_train.launch", ["teacher"],
         "kdsharp-train: error: needs the Python packages 'torch', 'safetensors', not installed; install them with: pip install 'kdsharp[train]'"),
        ({"pyvirtualcam"}, "kdsharp_cam.launch", ["0"],
         "kdsharp-cam: error: needs the Python package 'pyvirtualcam', not installed; install them with: pip install 'kdsharp[cam]'"),
        ({"av"}, "kdsharp.cli", ["video", "in.mp4", "-o", "out.mp4"],
         "kdsharp: error: kdsharp video needs the Python package 'av', which is not installed; install it with: pip install 'kdsharp[video]'"),
        ({"cv2"}, "kdsharp.cli", ["bench", "--sizes", "64x64"],
         "kdsharp: error: kdsharp bench (the OpenCV unsharp-mask baseline) needs the Python package 'cv2', which is not installed; install it with: pip install 'kdsharp[bench]'"),
    ],
)
def test_missing_extra_is_one_line(blocked: set[str], module: str, argv: list[str], line: str) -> None:
    proc = _run(blocked, module, "main", argv)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == line


def test_with_the_extra_the_script_runs() -> None:
    proc = _run(set(), "kdsharp_train.launch", "main", ["--help"])
    assert proc.returncode == 0 and "kdsharp-train" in proc.stdout
