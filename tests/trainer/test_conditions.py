"""The degradation conditions: recorded as drawn, given by the suite, fed to a conditioned student."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from kdsharp_train.conditions import CONDITION_NAMES, DegradationRecord, suite_conditions, with_case_conditions, with_conditions
from kdsharp_train.degrade import DegradeConfig, USER_MIX, random_degrade
from kdsharp_train.export import ExportConfig, ExportError, export_checkpoint
from kdsharp_train.models import build_model, load_model
from kdsharp_train.suite import EVAL_SUITE
from kdsharp_train.train import train
from kdsharp_train.config import replace_path


def test_suite_conditions_follow_the_cases_steps() -> None:
    assert suite_conditions("gauss_s1.0") == pytest.approx((0.5, 0.0, 0.0, 0.0))
    assert suite_conditions("clean") == (0.0, 0.0, 0.0, 0.0)
    assert suite_conditions("down_2x")[3] == pytest.approx(1.0)
    assert suite_conditions("jpeg420_q20")[2] == pytest.approx(0.8)
    assert suite_conditions("h264_crf32")[2:] == pytest.approx((32 / 51, 1.0))
    blur, noise, comp, scale = suite_conditions("chain_webcam")
    assert blur == pytest.approx(0.4) and noise > 0 and comp == pytest.approx(0.3) and scale == pytest.approx(1.0)
    motion = suite_conditions("motion_7")[0]
    assert motion == pytest.approx(7 / math.sqrt(24) / 2)
    assert all(len(suite_conditions(n)) == len(CONDITION_NAMES) for n in EVAL_SUITE)
    with pytest.raises(KeyError, match="unknown degradation"):
        suite_conditions("nope")
    with pytest.raises(ValueError, match="no degradation op"):
        DegradationRecord().add("sepia", 1.0)


def test_recording_draws_nothing_and_describes_what_was_applied() -> None:
    x = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(0))
    for seed in range(12):
        rec = DegradationRecord()
        a = random_degrade(x, USER_MIX, np.random.default_rng(seed), rec)
        b = random_degrade(x, USER_MIX, np.random.default_rng(seed))
        assert torch.equal(a, b)
        assert all(v >= 0 for v in rec.vector())
    only_blur = DegradeConfig(p_gauss=1.0, gauss_sigma=(1.2, 1.2), p_defocus=0, p_motion=0, p_down=0, p_noise=0, p_jpeg=0)
    rec = DegradationRecord()
    random_degrade(x, only_blur, np.random.default_rng(0), rec)
    assert rec.vector() == pytest.approx((0.6, 0.0, 0.0, 0.0))


def test_with_conditions_adds_constant_planes() -> None:
    x = torch.rand(2, 1, 8, 12)
    c = torch.tensor([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    y = with_conditions(x, c)
    assert y.shape == (2, 5, 8, 12) and torch.equal(y[:, :1], x)
    assert torch.equal(y[1, 3], torch.full((8, 12), 7.0))
    told = with_case_conditions(x, "down_2x")
    assert told.shape == (2, 5, 8, 12) and torch.equal(told[:, 4], torch.ones(2, 8, 12))  # log2 of 2


def test_conditioned_student_trains_validates_and_is_not_exported(tiny_config, tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path / "run", steps=2)
    cfg = replace_path(cfg, "model.args", {"channels": 4, "convs": 1, "in_channels": 1, "condition": 4})
    net, meta = load_model(train(cfg))
    assert net.condition == 4 and meta["metrics"]["psnr"] > 10
    # Told different degradations, it answers differently: the planes reach the network.
    net.eval()
    y = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        for p in net.head.parameters():
            p.add_(0.1)
        a = net(with_conditions(y, torch.tensor([[0.0, 0.0, 0.0, 0.0]])))
        b = net(with_conditions(y, torch.tensor([[1.0, 0.0, 0.0, 0.0]])))
    assert a.shape == y.shape and not torch.equal(a, b)
    with pytest.raises(ExportError, match="conditioned student"):
        export_checkpoint(ExportConfig(checkpoint=str(tmp_path / "run" / "last.json"), out=str(tmp_path / "c.onnx")))


def test_blind_fast_student_is_unchanged_by_the_option() -> None:
    torch.manual_seed(0)
    a = build_model("student", "fast", {"channels": 4, "convs": 1, "in_channels": 1})
    assert "condition" not in a.arch_args and a.head.in_channels == 1
    b = build_model("student", "fast", {"channels": 4, "convs": 1, "in_channels": 1, "condition": 4})
    assert b.head.in_channels == 5 and b.arch_args["condition"] == 4
