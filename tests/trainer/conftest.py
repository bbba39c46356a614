"""Fixtures for the trainer tests: generated photo folders and tiny configs (seconds, 1 thread)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from kdsharp_train.config import ModelConfig, OptimConfig, TrainConfig
from kdsharp_train.datasets import DataConfig
from PIL import Image
from tiny_args import TINY_ARGS


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def write_photos(folder: Path, n: int, size: tuple[int, int] = (72, 88), seed: int = 0) -> list[Path]:
    """Write ``n`` textured RGB PNGs (smooth colour fields plus edges) into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        img = np.zeros((h, w, 3))
        for c in range(3):
            fx, fy, ph = rng.uniform(0.02, 0.3, 2).tolist() + [rng.uniform(0, 6)]
            img[..., c] = 0.5 + 0.4 * np.sin(fx * xx + fy * yy + ph)
        img[(xx // rng.integers(5, 12) + yy // rng.integers(5, 12)) % 2 == 0] *= 0.6
        p = folder / f"photo{i:02d}.png"
        Image.fromarray((img * 255).astype(np.uint8)).save(p)
        paths.append(p)
    return paths


@pytest.fixture(scope="session")
def photo_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(train folder with 6 photos, val folder with 2 photos)."""
    root = tmp_path_factory.mktemp("photos")
    write_photos(root / "train", 6, seed=1)
    write_photos(root / "val", 2, seed=2)
    return root / "train", root / "val"


def _tiny_config(run_dir: Path, photo_dirs: tuple[Path, Path], kind: str = "student", name: str = "fast", **kw) -> TrainConfig:
    train, val = photo_dirs
    cfg = TrainConfig(
        run_dir=str(run_dir),
        model=ModelConfig(kind=kind, name=name, args=TINY_ARGS[(kind, name)]),
        data=DataConfig(train=str(train), val=str(val), crop=32, margin=8, val_crop=32,
                        val_degradations=("gauss_s1.0", "jpeg_q30")),
        optim=OptimConfig(lr=1e-3, warmup=2),
        steps=4, batch=4, seed=3, threads=1, val_every=2, ckpt_every=2, log_every=1, progress=False,
    )
    return dataclasses.replace(cfg, **kw)


@pytest.fixture(scope="session")
def tiny_config(photo_dirs: tuple[Path, Path]):
    """Factory ``tiny_config(run_dir, kind="student", name="fast", **TrainConfig overrides)``:
    a training config on the generated photos that runs a step in well under a second."""

    def make(run_dir: Path, kind: str = "student", name: str = "fast", **kw) -> TrainConfig:
        return _tiny_config(run_dir, photo_dirs, kind, name, **kw)

    return make
