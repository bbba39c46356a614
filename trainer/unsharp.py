"""The classical baseline: unsharp mask, tuned per degradation on a separate tuning folder.

``unsharp(x, sigma, amount) = x + amount · (x − gaussian(x, sigma))``, clamped to 0–1.
Tuning picks ``(sigma, amount)`` from a grid by mean PSNR on the tuning photos;
the evaluation photos are never used for it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from .degrade import gaussian_blur
from .losses import psnr

SIGMAS = (0.5, 0.8, 1.0, 1.5, 2.0, 3.0)
AMOUNTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)


@dataclass(frozen=True)
class UnsharpParams:
    """Unsharp-mask settings: Gaussian ``sigma`` (pixels) and ``amount`` (0 = identity)."""

    sigma: float = 1.0
    amount: float = 1.0


def unsharp(x: torch.Tensor, params: UnsharpParams) -> torch.Tensor:
    """Apply the unsharp mask.

    Args:
        x: ``C×H×W`` or ``N×C×H×W`` float32, 0–1.
        params: sigma and amount.

    Returns:
        The sharpened tensor, same shape, clamped to 0–1.
    """
    if params.amount == 0:
        return x.clone()
    batched = x if x.dim() == 4 else x[None]
    blurred = torch.stack([gaussian_blur(b, params.sigma) for b in batched])
    out = (batched + params.amount * (batched - blurred)).clamp(0.0, 1.0)
    return out if x.dim() == 4 else out[0]


def tune_unsharp(
    pairs: list[tuple[torch.Tensor, torch.Tensor]],
    sigmas: tuple[float, ...] = SIGMAS,
    amounts: tuple[float, ...] = AMOUNTS,
) -> tuple[UnsharpParams, float]:
    """Grid-search the unsharp mask on (degraded, sharp) pairs.

    Args:
        pairs: ``(degraded, sharp)`` tensors ``C×H×W`` float32 0–1 (one degradation).
        sigmas, amounts: the grid.

    Returns:
        The best parameters and their mean PSNR (dB).
    """
    best, best_p = UnsharpParams(1.0, 0.0), -np.inf
    for sigma, amount in itertools.product(sigmas, amounts):
        if amount == 0 and sigma != sigmas[0]:
            continue
        prm = UnsharpParams(sigma, amount)
        p = float(np.mean([psnr(unsharp(d, prm), s) for d, s in pairs]))
        if p > best_p:
            best, best_p = prm, p
    return best, best_p
