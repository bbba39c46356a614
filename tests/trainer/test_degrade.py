"""Degradations keep shape and range, are seeded, and the named suite is fixed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kdsharp_train.degrade import (
    DegradeConfig,
    disk_kernel,
    gaussian_kernel,
    motion_kernel,
    random_degrade,
)
from kdsharp_train.suite import EVAL_SUITE, suite_degrade
from kdsharp_train.losses import psnr


def _image() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    base = torch.rand(3, 12, 12, generator=g)
    return torch.nn.functional.interpolate(base[None], size=(64, 80), mode="nearest")[0]


def test_kernels_are_normalised_and_shaped() -> None:
    for k in (gaussian_kernel(1.5), disk_kernel(2.5), motion_kernel(7, 30)):
        assert k.sum() == pytest.approx(1.0)
        assert k.shape[0] % 2 == 1 and k.shape[0] == k.shape[1]
    m = motion_kernel(7, 0)
    assert np.count_nonzero(m.sum(axis=1) > 1e-6) <= 2  # horizontal line: one or two rows


def test_random_pipeline_is_seeded_and_degrades() -> None:
    x = _image()
    a = random_degrade(x, DegradeConfig(), np.random.default_rng(5))
    b = random_degrade(x, DegradeConfig(), np.random.default_rng(5))
    c = random_degrade(x, DegradeConfig(), np.random.default_rng(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    # quantised to 8-bit levels
    assert torch.allclose(a * 255, torch.round(a * 255), atol=1e-4)
    assert psnr(a[None], x[None]) < 60


def test_every_op_can_run_alone() -> None:
    x = _image()
    off = dict(p_gauss=0.0, p_defocus=0.0, p_motion=0.0, p_down=0.0, p_noise=0.0, p_jpeg=0.0)
    for key in off:
        cfg = DegradeConfig(**dict(off, **{key: 1.0}))
        y = random_degrade(x, cfg, np.random.default_rng(0))
        assert y.shape == x.shape
        assert psnr(y[None], x[None]) < 50, key


@pytest.mark.parametrize("name", list(EVAL_SUITE))
def test_suite_is_fixed(name: str) -> None:
    x = _image()
    a, b = suite_degrade(x, name, seed=1), suite_degrade(x, name, seed=1)
    assert torch.equal(a, b) and a.shape == x.shape
    assert 12 < psnr(a[None], x[None]) < 60  # a harsh synthetic image: 2x down + H.264 costs the most


def test_suite_unknown_name() -> None:
    with pytest.raises(KeyError, match="gauss_s1.0"):
        suite_degrade(_image(), "nope")


def test_luma_images_are_supported() -> None:
    y = _image()[:1]
    for name in EVAL_SUITE:
        assert suite_degrade(y, name).shape == y.shape


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"p_noise": 1.5}, "degrade.p_noise must be a probability"),
        ({"p_gauss": True}, "degrade.p_gauss must be a probability"),
        ({"p_jpeg": float("nan")}, "degrade.p_jpeg must be a probability"),
        ({"gauss_sigma": (2.0, 1.0)}, "degrade.gauss_sigma must be two non-negative numbers"),
        ({"noise_sigma": (-0.1, 0.1)}, "degrade.noise_sigma must be two non-negative numbers"),
        ({"down_scale": (2.0,)}, "degrade.down_scale must be two numbers of at least 1"),
        ({"jpeg_quality": (0, 90)}, "degrade.jpeg_quality must be two whole numbers from 1 to 95"),
        ({"jpeg_quality": (30.5, 90)}, "degrade.jpeg_quality must be two whole numbers from 1 to 95"),
        ({"min_ops": -1}, "degrade.min_ops must be a whole number from 0 to 6"),
    ],
)
def test_settings_the_pipeline_cannot_draw_from_are_refused(change: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        DegradeConfig(**change)


def test_edge_settings_are_accepted() -> None:
    cfg = DegradeConfig(p_gauss=1.0, p_noise=0, gauss_sigma=(1.0, 1.0), jpeg_quality=[1, 95], min_ops=0)
    assert random_degrade(_image(), cfg, np.random.default_rng(0)).shape == (3, 64, 80)
