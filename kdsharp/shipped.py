"""The models shipped in ``weights/`` (package ``kdsharp.weights``), by name.

One explicit dict: a reader never has to guess where a name comes from.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: name -> path relative to the weights folder.
SHIPPED_MODELS: dict[str, str] = {
    "fast": "kdsharp-fast.onnx",
    "quality": "kdsharp-quality.onnx",
    "max": "kdsharp-max.onnx",
    "nokd": "ablation/student_nokd.onnx",
    "quality_nokd": "ablation/quality_nokd.onnx",
}
DEFAULT_MODEL = "fast"
SUMS_FILE = "SHA256SUMS"


def weights_dir() -> Path:
    """The folder holding the shipped weights, in a checkout or an installed wheel."""
    return Path(str(resources.files("kdsharp.weights")))


def shipped_path(name: str) -> Path:
    """Path of a shipped model by name (it may not exist yet)."""
    return weights_dir() / SHIPPED_MODELS[name]


def read_sums(folder: Path) -> dict[str, str]:
    """Parse ``folder/SHA256SUMS`` (``<hex>  <relative path>`` lines) into path -> digest.

    Returns an empty dict when the file does not exist.
    """
    sums_path = folder / SUMS_FILE
    if not sums_path.is_file():
        return {}
    sums: dict[str, str] = {}
    for line in sums_path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, rel = line.partition(" ")
        sums[rel.strip().lstrip("*")] = digest.lower()
    return sums
