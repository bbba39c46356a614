"""Teacher label banks: built once, resumable, verified on load, and used by output KD instead of the live teacher."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from kdsharp_train.cli import main
from kdsharp_train.config import DistillConfig, replace_path
from kdsharp_train.datasets import DataConfig, DatasetError
from kdsharp_train.degrade import DegradeConfig, gaussian_blur
from kdsharp_train.distill import DistillError, Distiller
from kdsharp_train.label_bank import BankConfig, LabelBank, build_bank
from kdsharp_train.losses import LOSSES
from kdsharp_train.models import build_model, load_model
from kdsharp_train.train import rgb_to_luma, train
from safetensors.torch import load_file, save_file


@pytest.fixture(scope="module")
def teacher_ckpt(tmp_path_factory: pytest.TempPathFactory, tiny_config) -> Path:
    return train(tiny_config(tmp_path_factory.mktemp("teacher"), "teacher", "nafnet", steps=2, val_every=2))


@pytest.fixture(scope="module")
def bank_dir(tmp_path_factory: pytest.TempPathFactory, teacher_ckpt: Path, photo_dirs) -> Path:
    out = tmp_path_factory.mktemp("bank")
    build_bank(BankConfig(teacher=str(teacher_ckpt), out=str(out), train=str(photo_dirs[0]),
                          samples=6, crop=24, part_size=4, batch=3, threads=1), progress=False)
    return out


def test_bank_holds_the_teachers_outputs_of_its_quantised_inputs(bank_dir: Path, teacher_ckpt: Path) -> None:
    bank = LabelBank.load(bank_dir)
    assert len(bank) == 8  # rounded up to whole parts
    assert bank.degraded.dtype == bank.sharp.dtype == torch.uint8 and bank.teacher.dtype == torch.float16
    assert bank.degraded.shape == bank.sharp.shape == bank.teacher.shape == (8, 3, 24, 24)
    assert not torch.equal(bank.degraded, bank.sharp)
    teacher, meta = load_model(teacher_ckpt)
    with torch.no_grad():
        again = teacher(bank.degraded.float() / 255.0).clamp(0, 1)
    assert torch.allclose(again, bank.teacher.float(), atol=2e-3)
    manifest = json.loads((bank_dir / "bank.json").read_text())
    tensors = Path(teacher_ckpt).with_name(meta["tensors"])
    assert manifest["teacher_sha256"] == meta["tensors_sha256"] and tensors.exists()
    assert manifest["teacher_step"] == meta["step"] and manifest["samples"] == 8
    # Each crop keeps its degradation's four conditions; a sample carries those of its crops.
    assert bank.conditions is not None and bank.conditions.shape == (8, 4) and (bank.conditions >= 0).all()
    assert bank.conditions.abs().sum() > 0
    x, _, _, c = bank.sample(5, 16, np.random.default_rng(1))
    assert c is not None and c.shape == (5, 4)


def test_a_bank_without_conditions_loads_and_trains_a_blind_student_only(bank_dir: Path, tiny_config, photo_dirs, tmp_path: Path) -> None:
    for f in bank_dir.iterdir():
        if f.suffix == ".safetensors":
            t = load_file(str(f))
            t.pop("conditions")
            save_file(t, str(tmp_path / f.name))
        else:
            (tmp_path / f.name).write_bytes(f.read_bytes())
    manifest = json.loads((tmp_path / "bank.json").read_text())
    for part in manifest["parts"]:
        part["sha256"] = hashlib.sha256((tmp_path / part["file"]).read_bytes()).hexdigest()
    (tmp_path / "bank.json").write_text(json.dumps(manifest))
    assert LabelBank.load(tmp_path).conditions is None
    data = DataConfig(train=str(tmp_path), val=str(photo_dirs[1]), layout="bank", crop=16, val_crop=16,
                      val_degradations=("gauss_s1.0",))
    cfg = tiny_config(tmp_path / "run", steps=1, data=data)
    cfg = replace_path(cfg, "model.args", {"channels": 4, "convs": 1, "in_channels": 1, "condition": 4})
    with pytest.raises(ValueError, match="needs each crop's degradation"):
        train(cfg)


def test_an_interrupted_build_resumes_to_the_same_bank(bank_dir: Path, teacher_ckpt: Path, photo_dirs, tmp_path: Path) -> None:
    cfg = BankConfig(teacher=str(teacher_ckpt), out=str(tmp_path), train=str(photo_dirs[0]),
                     samples=6, crop=24, part_size=4, batch=3, threads=1)
    build_bank(cfg, progress=False)
    (tmp_path / "part-0001.safetensors").unlink()
    (tmp_path / "bank.json").unlink()  # killed before the second part and the manifest
    build_bank(cfg, progress=False)
    for name in ("part-0000.safetensors", "part-0001.safetensors"):
        a, b = load_file(str(bank_dir / name)), load_file(str(tmp_path / name))
        assert all(torch.equal(a[k], b[k]) for k in a), name
    with pytest.raises(DatasetError, match="other settings"):
        build_bank(dataclasses.replace(cfg, seed=9), progress=False)


def test_altered_or_unfinished_bank_is_refused(bank_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no bank.json"):
        LabelBank.load(tmp_path)
    for f in bank_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    part = tmp_path / "part-0001.safetensors"
    data = bytearray(part.read_bytes())
    data[-1] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="altered bank part"):
        LabelBank.load(tmp_path)


def test_samples_apply_one_crop_flip_and_rotation_to_all_three() -> None:
    base = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8) % 251
    bank = LabelBank(degraded=base.to(torch.uint8), sharp=base.to(torch.uint8),
                     teacher=(base / 255.0).to(torch.float16), manifest={})
    x, y, t, c = bank.sample(16, 5, np.random.default_rng(0))
    assert x.shape == (16, 3, 5, 5) and x.dtype == torch.float32
    assert torch.equal(x, y) and torch.allclose(x, t, atol=1e-3)
    assert len({tuple(v.flatten()[:4].tolist()) for v in x}) > 4  # crops really vary
    with pytest.raises(DatasetError, match="larger than the bank"):
        bank.sample(1, 9, np.random.default_rng(0))


def test_noisy_weight_changes_how_often_noisy_crops_are_drawn() -> None:
    base = torch.zeros(4, 3, 8, 8, dtype=torch.uint8)
    base[:, 0, 0, 0] = torch.arange(4, dtype=torch.uint8)  # each crop marked by its index
    # Crops 0 and 1 went through noise or a codec, 2 and 3 only through blur.
    conditions = torch.tensor([[0.5, 0.3, 0.0, 0.0], [0.0, 0.0, 0.4, 0.0], [0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    bank = LabelBank(degraded=base, sharp=base, teacher=base.to(torch.float16), manifest={}, conditions=conditions)
    p = bank.noisy_weights(0.25)
    assert np.allclose(p, [0.1, 0.1, 0.4, 0.4])
    _, _, _, c = bank.sample(4000, 8, np.random.default_rng(0), p)
    noisy = ((c[:, 1] > 0) | (c[:, 2] > 0)).float().mean().item()
    assert 0.17 < noisy < 0.23
    with pytest.raises(DatasetError, match="positive number"):
        bank.noisy_weights(0.0)
    with pytest.raises(DatasetError, match="keeps each crop's conditions"):
        LabelBank(degraded=base, sharp=base, teacher=base.to(torch.float16), manifest={}).noisy_weights(0.5)


def test_output_kd_reads_bank_labels_without_a_teacher(tiny_config) -> None:
    student = build_model("student", "fast", {"channels": 4, "convs": 1, "stride": 4, "in_channels": 1})
    cfg = tiny_config(Path("unused"), distill=DistillConfig(output=2.0))
    distiller = Distiller(cfg, student, torch.device("cpu"), labels_given=True)
    assert distiller.teacher is None
    x, soft = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    out = student(rgb_to_luma(x))
    terms = distiller.generator_terms(x, out, {}, rgb_to_luma(x), 2, soft)
    expected = 2.0 * LOSSES["charbonnier"](out, rgb_to_luma(soft))
    assert torch.allclose(terms["kd_output"], expected)
    with pytest.raises(DistillError, match="live teacher"):
        Distiller(tiny_config(Path("unused"), distill=DistillConfig(output=1.0, perceptual=0.1)),
                  student, torch.device("cpu"), labels_given=True)


def test_students_train_on_a_bank_with_and_without_kd(bank_dir: Path, tiny_config, photo_dirs, tmp_path: Path) -> None:
    data = DataConfig(train=str(bank_dir), val=str(photo_dirs[1]), layout="bank", crop=16, val_crop=32,
                      val_degradations=("gauss_s1.0",))
    kd = train(tiny_config(tmp_path / "kd", data=data, distill=DistillConfig(output=1.0)))
    ctl = train(tiny_config(tmp_path / "ctl", data=data))
    for run, has_kd in ((kd.parent, True), (ctl.parent, False)):
        rows = [json.loads(r) for r in (run / "metrics.jsonl").read_text().splitlines()]
        terms = [r["terms"] for r in rows if r["type"] == "train"]
        assert len(terms) == 4 and all(("kd_output" in t) == has_kd for t in terms)
        assert [r for r in rows if r["type"] == "val"]


def test_bank_command_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bank", "--teacher", str(tmp_path / "missing.json"), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kdsharp-train bank: error:") and "missing.json" in err[0]


def test_a_bank_can_change_the_teachers_degradations(bank_dir: Path, teacher_ckpt: Path, photo_dirs, tmp_path: Path) -> None:
    changes = {"p_gauss": 1.0, "gauss_sigma": [2.0, 2.0], "p_defocus": 0.0, "p_motion": 0.0, "p_down": 0.0,
               "p_noise": 0.0, "p_jpeg": 0.0}
    cfg = BankConfig(teacher=str(teacher_ckpt), out=str(tmp_path), train=str(photo_dirs[0]),
                     samples=4, crop=24, part_size=4, batch=2, threads=1, degrade=changes)
    build_bank(cfg, progress=False)
    manifest = json.loads((tmp_path / "bank.json").read_text())
    assert manifest["degrade"]["p_noise"] == 0.0 and manifest["degrade"]["gauss_sigma"] == [2.0, 2.0]
    default = json.loads((bank_dir / "bank.json").read_text())["degrade"]
    assert default["p_noise"] == DegradeConfig().p_noise  # no change: the teacher's own settings
    bank = LabelBank.load(tmp_path)
    # every crop is the σ 2 Gaussian blur of its sharp crop and nothing else (inside the kernel's reach)
    r = 6
    for x, y in zip(bank.degraded.float() / 255, bank.sharp.float() / 255, strict=True):
        blurred = torch.round(gaussian_blur(y, 2.0) * 255) / 255
        assert (x - blurred)[:, r:-r, r:-r].abs().max() <= 1.01 / 255


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--degrade", "p_nois=0.1"], "no degradation setting 'p_nois'; choose from p_gauss"),
        (["--degrade", "p_noise=2"], "degrade.p_noise must be a probability from 0 to 1, got 2"),
        (["--degrade", "p_noise"], "--degrade expects setting=value, got 'p_noise'"),
        (["--degrade", "gauss_sigma=[1,"], "--degrade gauss_sigma: '[1,' is not a JSON value"),
    ],
)
def test_bad_degradation_changes_are_one_line_errors(
    teacher_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    out = tmp_path / "b"
    assert main(["bank", "--teacher", str(teacher_ckpt), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"kdsharp-train bank: error: {named}")
    assert not out.exists()
