"""Polyblur: the blur estimate finds a known blur, and the deblurring helps on blur and stays put on sharp input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kdsharp_train.degrade import anisotropic_blur, gaussian_blur
from kdsharp_train.losses import psnr
from kdsharp_train.polyblur import PolyblurParams, estimate_blur, polyblur, tune_polyblur


def _scene(side: int = 256) -> torch.Tensor:
    """Hard-edged rectangles and discs: a sharp test image with edges at every angle."""
    rng = np.random.default_rng(3)
    img = np.full((side, side, 3), 0.5)
    yy, xx = np.mgrid[:side, :side]
    for _ in range(40):
        colour = rng.random(3)
        if rng.random() < 0.5:
            y0, x0 = rng.integers(0, side - 20, 2)
            h, w = rng.integers(10, 80, 2)
            img[y0 : y0 + h, x0 : x0 + w] = colour
        else:
            cy, cx, r = *rng.integers(0, side, 2), rng.integers(6, 40)
            img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = colour
    return torch.from_numpy(img).float().permute(2, 0, 1)


def _q(x: torch.Tensor) -> torch.Tensor:
    return torch.round(x.clamp(0, 1) * 255) / 255


@pytest.mark.parametrize("sigma", [1.0, 1.5, 2.0, 2.5])
def test_estimate_is_within_20_percent_of_a_known_blur(sigma: float) -> None:
    # The cameraman: a photograph in no split of the training data, with strong edges.
    from skimage import data

    cam = torch.from_numpy(data.camera()[:384, :384].astype(np.float32) / 255.0)[None]
    est = estimate_blur(_q(gaussian_blur(cam, sigma)))
    assert est.sigma == pytest.approx(sigma, rel=0.2)
    # Across the blurriest direction the photo's own strongest edges read sharper: never blurrier.
    assert est.sigma_across <= est.sigma and est.sigma_across == pytest.approx(sigma, rel=0.3)


def test_estimate_finds_the_direction_of_an_anisotropic_blur() -> None:
    est = estimate_blur(_q(anisotropic_blur(_scene(), 2.5, 0.8, 0.0)))
    assert est.sigma > est.sigma_across * 1.5
    assert min(abs(est.angle_deg), abs(est.angle_deg - 180)) <= 12  # blurred along x


def test_deblurring_gains_on_blur_and_keeps_range() -> None:
    sharp = _scene()
    blurred = _q(gaussian_blur(sharp, 1.5))
    out = polyblur(blurred)
    assert out.shape == blurred.shape and out.min() >= 0 and out.max() <= 1
    assert psnr(out[None], sharp[None]) > psnr(blurred[None], sharp[None]) + 1.0
    batch = polyblur(torch.stack([blurred, blurred]))
    assert torch.allclose(batch[0], out)


def test_tuning_picks_a_grid_setting_and_beats_the_default_or_ties() -> None:
    sharp = _scene(128)
    pairs = [(_q(gaussian_blur(sharp, s)), sharp) for s in (1.0, 2.0)]
    prm, score = tune_polyblur(pairs)
    default = float(np.mean([psnr(polyblur(d, PolyblurParams())[None], s[None]) for d, s in pairs]))
    assert isinstance(prm, PolyblurParams) and score >= default - 1e-6
