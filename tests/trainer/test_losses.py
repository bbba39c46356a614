"""Each reconstruction loss is finite and decreases when optimised on a toy batch."""

from __future__ import annotations

import pytest
import torch
from kdsharp_train.losses import LOSSES, msssim_value, psnr, ssim_value


@pytest.mark.parametrize("name", [n for n in LOSSES if not n.startswith("psnr")])  # logs, negative: tested below
@pytest.mark.parametrize("side", [24, 168])
def test_loss_is_finite_and_decreases(name: str, side: int) -> None:
    g = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, side, side, generator=g)
    pred = (target + 0.2 * torch.randn(2, 3, side, side, generator=g)).clamp(0, 1).requires_grad_(True)
    opt = torch.optim.Adam([pred], lr=0.01)
    first = LOSSES[name](pred, target)
    assert torch.isfinite(first) and first.item() > 0
    for _ in range(15):
        loss = LOSSES[name](pred, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert LOSSES[name](pred, target).item() < 0.9 * first.item()


def test_metrics_of_identical_images() -> None:
    x = torch.rand(1, 3, 200, 200)
    assert psnr(x, x) == float("inf")
    assert ssim_value(x, x) == pytest.approx(1.0, abs=1e-5)
    assert msssim_value(x, x) == pytest.approx(1.0, abs=1e-5)
    noisy = (x + 0.01 * torch.randn_like(x)).clamp(0, 1)
    assert 38 < psnr(noisy, x) < 42


def test_psnr_loss_weighs_every_crop_alike() -> None:
    from kdsharp_train.losses import LOSSES, psnr_loss

    target = torch.zeros(2, 1, 8, 8)
    pred = torch.zeros(2, 1, 8, 8)
    pred[0] += 0.1  # a large error on one crop
    pred[1] += 0.001  # a tiny one on the other
    pred.requires_grad_(True)
    psnr_loss(pred, target).backward()
    assert pred.grad is not None
    # Charbonnier/MSE would push the large error 100× harder; a per-crop log MSE pushes each crop's error
    # in proportion to 1/error, so the nearly sharp crop gets the larger push per pixel.
    assert pred.grad[1].abs().mean() > pred.grad[0].abs().mean()
    expected = (torch.log10(torch.tensor(0.01 + 1e-8)) + torch.log10(torch.tensor(1e-6 + 1e-8))) / 2
    assert torch.isclose(psnr_loss(pred.detach(), target), expected)
    assert LOSSES["psnr"] is psnr_loss
    # Optimised, it falls: here by more than 1 (10 dB of PSNR) in 30 steps.
    pred = (target + 0.2 * torch.rand(2, 1, 8, 8)).requires_grad_(True)
    opt = torch.optim.Adam([pred], lr=0.01)
    first = psnr_loss(pred, target).item()
    for _ in range(30):
        loss = psnr_loss(pred, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert psnr_loss(pred, target).item() < first - 1.0


def test_psnr40_stops_paying_past_40_db() -> None:
    from kdsharp_train.losses import LOSSES

    target = torch.zeros(1, 1, 8, 8)
    exact, close = LOSSES["psnr40"](target, target), LOSSES["psnr40"](target + 1e-3, target)  # 60 dB
    far = LOSSES["psnr40"](target + 0.1, target)  # 20 dB
    assert abs(exact.item() + 4.0) < 1e-6 and close.item() - exact.item() < 0.01 and far.item() > -2.1


def test_noharm_pays_only_for_crops_made_worse_than_their_input() -> None:
    from kdsharp_train.losses import noharm_loss

    target = torch.zeros(2, 1, 8, 8)
    degraded = torch.full((2, 1, 8, 8), 0.01)  # 40 dB (MSE 1e-4) each
    better = degraded * 0.1
    assert noharm_loss(better, target, degraded).item() == 0.0
    assert noharm_loss(degraded, target, degraded).item() == 0.0
    # Crop 0 untouched, crop 1 ten times the input's error: 10× MSE (1e-3 + floor vs 1e-4 + floor).
    worse = degraded.clone()
    worse[1] = 10 ** 0.5 * 0.01
    expected = (torch.log10(torch.tensor(1e-3 + 1e-4)) - torch.log10(torch.tensor(2e-4))).item() / 2
    assert abs(noharm_loss(worse, target, degraded).item() - expected) < 1e-5
    pred = worse.clone().requires_grad_(True)
    noharm_loss(pred, target, degraded).backward()
    assert pred.grad is not None and pred.grad[0].abs().sum() == 0 and pred.grad[1].abs().sum() > 0
