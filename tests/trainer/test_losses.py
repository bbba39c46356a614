"""Each reconstruction loss is finite and decreases when optimised on a toy batch."""

from __future__ import annotations

import pytest
import torch
from kdsharp_train.losses import LOSSES, msssim_value, psnr, ssim_value


@pytest.mark.parametrize("name", list(LOSSES))
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
