"""Fixtures of the virtual webcam tests: the capture backend and real FFV1 videos.

Videos are made from a real photo (``skimage.data.astronaut``) panned under a
small window, written losslessly (FFV1 in Matroska) so frames read back
bit-exact and the sent frames can be compared with the core's output.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from onnx_models import write_model

HERE = Path(__file__).parent


def load_helper(name: str):
    """Import ``<name>.py`` from this folder under its own name (pytest runs in importlib mode)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


load_helper("streams")
load_helper("capture_backend").install()


def pan_frames(count: int, width: int = 96, height: int = 64, step: tuple[int, int] = (5, 3)) -> list[np.ndarray]:
    """``count`` ``height×width×3`` uint8 RGB crops of a real photo, panned by ``step`` (x, y) per frame."""
    photo = data.astronaut()
    frames = []
    for i in range(count):
        x, y = (40 + i * step[0]) % (photo.shape[1] - width), (60 + i * step[1]) % (photo.shape[0] - height)
        frames.append(np.ascontiguousarray(photo[y : y + height, x : x + width]))
    return frames


def write_ffv1(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    """Write RGB frames losslessly (FFV1 in Matroska) with OpenCV."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write FFV1 here"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@dataclass(frozen=True)
class Video:
    """A test video and the frames it holds."""

    path: Path
    frames: list[np.ndarray]
    fps: float


@pytest.fixture(scope="session")
def pan_video(tmp_path_factory: pytest.TempPathFactory) -> Video:
    """24 frames of 96×64 at 25 fps."""
    frames = pan_frames(24)
    return Video(write_ffv1(tmp_path_factory.mktemp("video") / "pan.mkv", frames, 25.0), frames, 25.0)


@pytest.fixture(scope="session")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Video:
    """150 frames of 96×64 at 50 fps (3 s when played in real time)."""
    frames = pan_frames(150)
    return Video(write_ffv1(tmp_path_factory.mktemp("video") / "long.mkv", frames, 50.0), frames, 50.0)


@pytest.fixture(scope="session")
def cam_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny RGB model with a strong effect, so sharpened frames differ visibly from the input."""
    return write_model(tmp_path_factory.mktemp("cam_models") / "tiny_strong.onnx", gain=2.0)


@pytest.fixture()
def capture_dir(tmp_path: Path) -> Path:
    """An empty folder to use as the capture backend's device."""
    folder = tmp_path / "capture"
    folder.mkdir()
    return folder
