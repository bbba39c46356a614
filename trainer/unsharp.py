"""The classical baseline: unsharp mask, tuned per degradation on a separate tuning folder.

``unsharp(x, sigma, amount) = x + amount · (x − gaussian(x, sigma))``, clamped to 0–1.
Tuning picks ``(sigma, amount)`` from a grid by mean PSNR on the tuning photos,
per degradation or once for the whole suite; the evaluation photos are never
used for it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch

from .degrade import gaussian_blur
from .losses import psnr

#: Evaluation row names of the two baselines: the unsharp mask tuned per degradation (the reference of every
#: "Δ vs USM") and the one setting best over the whole suite (what a user who sets it once gets).
TUNED_USM = "unsharp (tuned)"
ONE_USM = "unsharp (one setting)"
#: Evaluation row name of the blind classical baseline (``polyblur``), tuned once on the tuning photos.
POLYBLUR = "Polyblur (blind, one setting)"

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


def grid_scores(
    pairs: list[tuple[torch.Tensor, torch.Tensor]],
    sigmas: tuple[float, ...] = SIGMAS,
    amounts: tuple[float, ...] = AMOUNTS,
) -> dict[UnsharpParams, float]:
    """Mean PSNR (dB) of every grid setting on (degraded, sharp) pairs.

    Args:
        pairs: ``(degraded, sharp)`` tensors ``C×H×W`` float32 0–1.
        sigmas, amounts: the grid (amount 0, the identity, is scored once, with the first sigma).

    Returns:
        Setting → mean PSNR over the pairs, in grid order.
    """
    scores: dict[UnsharpParams, float] = {}
    for sigma, amount in itertools.product(sigmas, amounts):
        if amount == 0 and sigma != sigmas[0]:
            continue
        prm = UnsharpParams(sigma, amount)
        scores[prm] = float(np.mean([psnr(unsharp(d, prm), s) for d, s in pairs]))
    return scores


def best_setting(scores: dict[UnsharpParams, float]) -> tuple[UnsharpParams, float]:
    """The setting with the highest score (the first in grid order on a tie) and its score."""
    best = max(scores, key=lambda prm: scores[prm])
    return best, scores[best]

