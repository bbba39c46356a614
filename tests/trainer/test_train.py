"""The training loop: outputs, exact resume, every distillation mode, layouts, and DDP."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from kdsharp_train.checkpoint import load_checkpoint
from kdsharp_train.config import DistillConfig, OptimConfig, TrainConfig, config_from_dict, config_to_dict, replace_path
from kdsharp_train.datasets import DatasetError
from kdsharp_train.distill import DistillError
from kdsharp_train.models import load_model
from kdsharp_train.train import lr_at, train
from PIL import Image


def _rows(run: Path, kind: str) -> list[dict]:
    return [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if r["type"] == kind]


@pytest.fixture(scope="module")
def teacher_ckpt(tmp_path_factory: pytest.TempPathFactory, tiny_config) -> Path:
    run = tmp_path_factory.mktemp("teacher")
    return train(tiny_config(run, "teacher", "nafnet", steps=2, val_every=2))


def test_run_writes_checkpoints_metrics_and_curves(tiny_config, tmp_path: Path) -> None:
    best = train(tiny_config(tmp_path))
    assert best == tmp_path / "best.json"
    for name in ("last.json", "metrics.jsonl", "curves.png", "config.json"):
        assert (tmp_path / name).exists(), name
    assert [r["step"] for r in _rows(tmp_path, "train")] == [1, 2, 3, 4]
    vals = _rows(tmp_path, "val")
    assert [r["step"] for r in vals] == [2, 4] and set(vals[0]["per"]) == {"gauss_s1.0", "jpeg_q30"}
    net, meta = load_model(best)
    assert meta["step"] in (2, 4) and meta["metrics"]["psnr"] > 10
    assert meta["cpu_s"] > 0 and meta["elapsed_s"] > 0
    # only the newest tensor file of each checkpoint is kept
    assert sorted(p.name for p in tmp_path.glob("last-*.safetensors")) == ["last-00000004.safetensors"]


def test_config_json_round_trip() -> None:
    cfg = replace_path(TrainConfig(), "distill.feature_pairs", ("body:enc1",))
    again = config_from_dict(TrainConfig, json.loads(json.dumps(config_to_dict(cfg))))
    assert again == cfg
    with pytest.raises(ValueError, match="unknown config keys"):
        config_from_dict(TrainConfig, {"stepz": 3})


def test_schedule_warms_up_then_decays() -> None:
    cfg = TrainConfig(steps=100)
    cfg = dataclasses.replace(cfg, optim=dataclasses.replace(cfg.optim, warmup=10, lr=1.0, min_lr=0.0))
    lrs = [lr_at(s, cfg) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] < 0.01


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_interrupted_run_resumes_to_identical_state(precision: str, tiny_config, tmp_path: Path) -> None:
    cfg_a = tiny_config(tmp_path / "a", "teacher", "nafnet", steps=6, val_every=100, precision=precision)
    cfg_b = tiny_config(tmp_path / "b", "teacher", "nafnet", steps=6, val_every=100, precision=precision)
    train(cfg_a)
    train(cfg_b, stop_after=3)  # "killed" after step 3 (a checkpoint is saved on stop)
    assert load_checkpoint(tmp_path / "b" / "last.json")[1]["step"] == 3
    train(cfg_b, resume=True)
    ta, ma = load_checkpoint(tmp_path / "a" / "last.json")
    tb, mb = load_checkpoint(tmp_path / "b" / "last.json")
    assert mb["step"] == ma["step"] == 6
    assert ma["np_rng"] == mb["np_rng"]
    assert set(ta) == set(tb)
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k


def test_resume_can_extend_the_step_budget(tiny_config, tmp_path: Path) -> None:
    train(tiny_config(tmp_path, steps=2, val_every=100))
    train(tiny_config(tmp_path, steps=3, val_every=100), resume=True)
    assert load_checkpoint(tmp_path / "last.json")[1]["step"] == 3


@pytest.mark.parametrize(
    "distill,terms",
    [
        (DistillConfig(output=1.0), {"kd_output"}),
        (DistillConfig(feature=0.5, feature_pairs=("body:enc1", "head:enc0")), {"kd_feature"}),
        (DistillConfig(perceptual=0.5), {"kd_perceptual"}),
        (DistillConfig(adversarial=0.01), {"adv_g", "disc"}),
        (DistillConfig(output=1.0, gt_as_teacher=True), {"kd_output"}),
        (DistillConfig(output=1.0, feature=0.1, feature_pairs=("body:middle",), unpaired_fraction=0.5), {"kd_output", "kd_feature"}),
    ],
    ids=["output", "feature", "perceptual", "adversarial", "gt_as_teacher", "unpaired"],
)
def test_one_step_of_each_distillation_mode(distill, terms, tiny_config, teacher_ckpt, photo_dirs, tmp_path: Path) -> None:
    needs_teacher = distill.active()
    d = dataclasses.replace(distill, teacher=str(teacher_ckpt) if needs_teacher else "")
    cfg = tiny_config(tmp_path, steps=2, val_every=100, distill=d)
    if distill.unpaired_fraction:
        cfg = replace_path(cfg, "data.unpaired", str(photo_dirs[1]))
    train(cfg)
    row = _rows(tmp_path, "train")[-1]
    assert terms <= set(row["terms"]) and all(np.isfinite(v) for v in row["terms"].values())
    tensors, meta = load_checkpoint(tmp_path / "last.json")
    if distill.feature:
        assert any(k.startswith("adapter.") for k in tensors)
    if distill.adversarial:
        assert any(k.startswith("disc.") for k in tensors) and "disc_opt_groups" in meta
        train(dataclasses.replace(cfg, steps=3), resume=True)  # discriminator state resumes too


def test_feature_kd_needs_teacher_and_known_stage(tiny_config, teacher_ckpt, tmp_path: Path) -> None:
    with pytest.raises(DistillError, match="distill.teacher"):
        train(tiny_config(tmp_path, distill=DistillConfig(output=1.0)))
    bad = DistillConfig(feature=1.0, feature_pairs=("body:enc9",), teacher=str(teacher_ckpt))
    with pytest.raises(DistillError, match="enc9"):
        train(tiny_config(tmp_path, distill=bad))


def test_luma_student_trains_and_validates_on_luma(tiny_config, teacher_ckpt, tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, steps=2, distill=DistillConfig(output=1.0, perceptual=0.1, teacher=str(teacher_ckpt)))
    cfg = replace_path(cfg, "model.args", {"channels": 4, "convs": 1, "in_channels": 1})
    net, meta = load_model(train(cfg))
    assert net.in_channels == 1 and meta["metrics"]["psnr"] > 10


def test_noharm_term_is_logged_beside_the_reconstruction_terms(tiny_config, tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, steps=2)
    cfg = replace_path(cfg, "model.args", {"channels": 4, "convs": 1, "in_channels": 1})
    cfg = replace_path(replace_path(cfg, "loss.psnr40", 1.0), "loss.noharm", 1.0)
    train(cfg)
    rows = [json.loads(line) for line in (Path(cfg.run_dir) / "metrics.jsonl").read_text().splitlines()]
    terms = [r["terms"] for r in rows if r.get("type") == "train"]
    assert terms and all({"psnr40", "noharm", "charbonnier"} <= set(t) for t in terms)
    assert all(t["noharm"] >= 0 for t in terms)


@pytest.mark.parametrize("value", ["x", -1, float("nan"), True])
def test_a_loss_weight_that_is_not_a_number_at_least_zero_is_one_line(value: object) -> None:
    with pytest.raises(ValueError, match=r"^loss\.noharm must be a number >= 0, not "):
        replace_path(TrainConfig(), "loss.noharm", value)


def test_bank_noisy_weight_outside_a_bank_is_refused(tiny_config, tmp_path: Path) -> None:
    cfg = replace_path(tiny_config(tmp_path, steps=1), "data.bank_noisy_weight", 0.5)
    with pytest.raises(DatasetError, match="applies to the bank layout, not 'folder'"):
        train(cfg)


def _write_pairs(root: Path, layout: str, n: int = 3) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        sharp = (rng.random((48, 56, 3)) * 255).astype(np.uint8)
        blurry = ((sharp.astype(np.float32) * 0.8) + 20).astype(np.uint8)
        if layout == "paired":
            d = root / f"{i:03d}"
            d.mkdir(parents=True)
            Image.fromarray(blurry).save(d / "blurry.png")
            Image.fromarray(sharp).save(d / "sharp.png")
        else:
            for sub, arr in (("blur", blurry), ("sharp", sharp)):
                (root / "scene1" / sub).mkdir(parents=True, exist_ok=True)
                Image.fromarray(arr).save(root / "scene1" / sub / f"{i:06d}.png")


@pytest.mark.parametrize("layout", ["paired", "gopro"])
def test_paired_layouts_train(layout: str, tiny_config, tmp_path: Path) -> None:
    _write_pairs(tmp_path / "train", layout)
    _write_pairs(tmp_path / "val", layout, n=1)
    cfg = tiny_config(tmp_path / "run", steps=2, val_every=2)
    cfg = replace_path(cfg, "data", dataclasses.replace(cfg.data, train=str(tmp_path / "train"), val=str(tmp_path / "val"), layout=layout))
    train(cfg)
    assert set(_rows(tmp_path / "run", "val")[0]["per"]) == {"paired"}


def test_ddp_two_gloo_processes_match_one(tiny_config, tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "single", steps=3, val_every=100)
    train(cfg)
    train_dir, val_dir = cfg.data.train, cfg.data.val
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "kdsharp_train.cli", "student", "--arch", "fast", "--arch-args", json.dumps(cfg.model.args),
        "--run-dir", str(tmp_path / "ddp"), "--train", train_dir, "--val", val_dir, "--steps", "3",
        "--batch", "4", "--crop", "32", "--seed", "3", "--threads", "1", "--val-every", "100", "--no-progress",
        "--lr", "1e-3", "--set", "optim.warmup=2", "--set", "data.margin=8", "--set", "data.val_crop=32",
        "--set", 'data.val_degradations=["gauss_s1.0","jpeg_q30"]',
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    ts, ms = load_checkpoint(tmp_path / "single" / "last.json")
    td, md = load_checkpoint(tmp_path / "ddp" / "last.json")
    assert md["step"] == 3 and md["config"]["batch"] == 4
    for k in ts:
        if k.startswith(("model.", "ema.")):
            assert torch.allclose(ts[k], td[k], atol=1e-5), k


def test_init_starts_a_new_run_from_a_checkpoints_weights(tiny_config, tmp_path: Path) -> None:
    from kdsharp_train.models import load_model

    first = train(tiny_config(tmp_path / "a", steps=2, val_every=2))
    start, _ = load_model(first)
    # Zero steps of fine-tuning: the new run's weights are exactly the start's (EMA weights when present).
    tuned = train(tiny_config(tmp_path / "b", steps=2, val_every=2, init=str(first), optim=OptimConfig(lr=0.0, min_lr=0.0, warmup=0)))
    net, meta = load_model(tmp_path / "b" / "last.json", use_ema=False)
    for (k, a), b in zip(start.state_dict().items(), net.state_dict().values()):
        assert torch.equal(a, b), k
    assert meta["config"]["init"] == str(first) and meta["step"] == 2


def test_init_of_another_architecture_and_unknown_mix_are_one_line(tiny_config, tmp_path: Path, capsys) -> None:
    from kdsharp_train.cli import main

    teacher = train(tiny_config(tmp_path / "t", "teacher", "nafnet", steps=1, val_every=1))
    cfg = tiny_config(tmp_path / "s", init=str(teacher))
    with pytest.raises(ValueError, match="is not the run's"):
        train(cfg)
    capsys.readouterr()
    assert main(["teacher", "--run-dir", str(tmp_path / "x"), "--degrade-mix", "bogus"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["kdsharp-train teacher: error: --degrade-mix must be one of classic, user, not 'bogus'"]
