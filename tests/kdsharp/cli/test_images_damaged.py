"""``kdsharp.cli.images.read_image`` on damaged files: a ``FileProblem`` naming the file, never another exception."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from kdsharp.cli.images import Picture, read_image
from kdsharp.cli.problems import FileProblem


def originals(folder: Path) -> list[Path]:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    paths = []
    for name, options in (("a.png", {}), ("a.jpg", {"quality": 90}), ("a.tif", {"compression": "tiff_lzw"}), ("a.webp", {}), ("a.bmp", {})):
        Image.fromarray(rgb).save(folder / name, **options)
        paths.append(folder / name)
    deep = folder / "deep.png"
    cv2.imwrite(str(deep), rng.integers(0, 65536, (48, 40, 3), dtype=np.uint16))
    return [*paths, deep]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_files_fail_cleanly(tmp_path: Path, damage: str) -> None:
    rng = np.random.default_rng(7)
    outcomes = {"ok": 0, "problem": 0}
    for original in originals(tmp_path):
        data = original.read_bytes()
        for i in range(25):
            broken = bytearray(data)
            if damage == "truncate":
                broken = broken[: int(rng.integers(1, len(data)))]
            else:
                for pos in rng.integers(0, len(data), size=8):
                    broken[pos] = int(rng.integers(0, 256))
            path = tmp_path / f"broken{i}{original.suffix}"
            path.write_bytes(bytes(broken))
            try:
                picture = read_image(path)
            except FileProblem as exc:
                assert exc.path == path
                assert exc.problem
                outcomes["problem"] += 1
            else:
                assert isinstance(picture, Picture)  # damage in a part no decoder checks
                outcomes["ok"] += 1
    assert outcomes["problem"] > 0
