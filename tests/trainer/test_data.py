"""The data command on generated images, and clear errors for bad dataset folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from kdsharp_train.cli import main
from kdsharp_train.datasets import DataConfig, DatasetError, TrainSampler, find_pairs, load_val_set, texture_score
from kdsharp_train.degrade import DegradeConfig
from kdsharp_train.photos import PhotosConfig, PhotoSourceError, gather_photos
from PIL import Image


def _write(folder: Path, n: int, size=(300, 400), name="img") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray((rng.random((*size, 3)) * 255).astype(np.uint8)).save(folder / f"{name}{i}.jpg")


def test_data_command_splits_by_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "src", 20)
    _write(tmp_path / "src" / "small", 1, size=(40, 40), name="tiny")  # below min_side: skipped
    out = tmp_path / "data"
    assert main(["data", "--out", str(out), "--sources", str(tmp_path / "src"), "--max-side", "256"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    files = manifest["files"]
    assert len(files) == 20 and "manifest.json" in capsys.readouterr().out
    splits = {s: {f["origin"] for f in files if f["split"] == s} for s in ("train", "val", "tune")}
    assert all(splits.values()) and not (splits["train"] & splits["val"]) and not (splits["val"] & splits["tune"])
    for f in files:
        p = out / f["file"]
        assert p.exists() and max(Image.open(p).size) == 256
    # same seed, same split
    again = gather_photos(PhotosConfig(out=tmp_path / "data2", sources=(str(tmp_path / "src"),), max_side=256))
    assert [f["split"] for f in json.loads(again.read_text())["files"]] == [f["split"] for f in files]


def test_data_command_unknown_source_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "--out", str(tmp_path / "d"), "--sources", "nowhere"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown photo source 'nowhere'" in err[0]
    with pytest.raises(PhotoSourceError):
        gather_photos(PhotosConfig(out=tmp_path / "d", sources=("nowhere",)))


def test_textured_crops_are_preferred(tmp_path: Path) -> None:
    img = np.full((200, 400, 3), 240, np.uint8)
    img[:, 200:] = (np.random.default_rng(0).random((200, 200, 3)) * 255).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "wall.png")
    cfg = DataConfig(train=str(tmp_path), crop=48, margin=0, texture_candidates=4)
    sampler = TrainSampler(cfg, DegradeConfig(p_gauss=0, p_defocus=0, p_motion=0, p_down=0, p_noise=0, p_jpeg=0, min_ops=0))
    rng = np.random.default_rng(0)
    _, sharp = sampler.sample(64, rng)
    scores = [texture_score((s.permute(1, 2, 0).numpy() * 255).astype(np.uint8)) for s in sharp]
    flat = sum(sc < 0.01 for sc in scores)
    assert flat < 64 * 0.2  # uniform crops would land on the wall about 40% of the time


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        TrainSampler(DataConfig(train=str(tmp_path / "empty")), DegradeConfig())
    with pytest.raises(DatasetError, match="does not exist"):
        TrainSampler(DataConfig(train=str(tmp_path / "missing")), DegradeConfig())


def test_unreadable_image(tmp_path: Path) -> None:
    _write(tmp_path, 1)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(DatasetError, match="broken.png: not a readable image"):
        TrainSampler(DataConfig(train=str(tmp_path)), DegradeConfig())


def test_images_smaller_than_the_crop(tmp_path: Path) -> None:
    _write(tmp_path, 2, size=(40, 40))
    with pytest.raises(DatasetError, match="smaller than"):
        TrainSampler(DataConfig(train=str(tmp_path), crop=64), DegradeConfig())


def test_mismatched_pairs(tmp_path: Path) -> None:
    d = tmp_path / "paired" / "000"
    d.mkdir(parents=True)
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(d / "blurry.png")
    with pytest.raises(DatasetError, match="sharp.png is missing"):
        find_pairs(tmp_path / "paired", "paired")
    Image.fromarray(np.zeros((60, 64, 3), np.uint8)).save(d / "sharp.png")
    with pytest.raises(DatasetError, match="mismatched sizes"):
        TrainSampler(DataConfig(train=str(tmp_path / "paired"), layout="paired", crop=32), DegradeConfig())
    g = tmp_path / "gopro" / "scene"
    (g / "blur").mkdir(parents=True)
    (g / "sharp").mkdir()
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(g / "blur" / "000001.png")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(g / "sharp" / "000002.png")
    with pytest.raises(DatasetError, match="mismatched pairs"):
        find_pairs(tmp_path / "gopro", "gopro")
    with pytest.raises(DatasetError, match="blur_gamma"):
        find_pairs(tmp_path / "gopro", "gopro", blur_gamma=True)


def test_bad_folder_through_the_cli_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code = main(["student", "--train", str(tmp_path / "empty"), "--val", str(tmp_path / "empty"),
                 "--run-dir", str(tmp_path / "run"), "--steps", "1", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no images" in err[0]


def test_bad_set_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["teacher", "--set", "optim.nope=3", "--steps", "1"]) == 2
    assert "no such config field" in capsys.readouterr().err


def test_val_set_is_fixed(tmp_path: Path) -> None:
    _write(tmp_path, 2)
    cfg = DataConfig(val=str(tmp_path), val_crop=64, val_degradations=("gauss_s2.0", "webcam"))
    a, b = load_val_set(cfg), load_val_set(cfg)
    assert [n for n, _, _ in a] == ["gauss_s2.0", "webcam"] * 2
    assert all(x.shape == (1, 3, 64, 64) and (x == x2).all() for (_, x, _), (_, x2, _) in zip(a, b))


def test_sharpness_weight_draws_sharp_photos_more_often(tmp_path: Path) -> None:
    from kdsharp_train.datasets import sharpness_score
    from PIL import ImageFilter

    rng = np.random.default_rng(0)
    sharp = Image.fromarray((rng.random((128, 128, 3)) * 255).astype(np.uint8)).resize((256, 256), Image.Resampling.NEAREST)
    sharp.save(tmp_path / "a_sharp.png")
    sharp.filter(ImageFilter.GaussianBlur(3)).save(tmp_path / "b_soft.png")
    a, b = (sharpness_score(np.asarray(Image.open(tmp_path / n))) for n in ("a_sharp.png", "b_soft.png"))
    assert a > 2 * b
    plain = TrainSampler(DataConfig(train=str(tmp_path), crop=32, margin=0), DegradeConfig())
    weighted = TrainSampler(DataConfig(train=str(tmp_path), crop=32, margin=0, sharpness_weight=1.0), DegradeConfig())
    assert plain.weights[0] == 0.5 and weighted.weights[0] > 0.6
