"""Polyblur: blind removal of mild blur by polynomial re-blurring (Delbracio et al., 2021), from the paper.

The careful user's classical alternative to a learned sharpener:

1. **Estimate** a Gaussian blur from the image itself. On the luma, normalised
   between two extreme quantiles, take the largest absolute directional derivative
   ``f(θ)`` for a few angles, interpolate it over many, and read off the direction
   of least sharpness ``θ₀`` (``f`` smallest) and the one across it. A Gaussian of
   σ turns a unit step into a slope of about ``c / sqrt(σ² + b²)`` (``b`` accounts for
   the image's own softness), so ``σ = sqrt(max(c² / f² − b², 0))`` along each axis.
   The paper's constants (0.362, 0.464) belong to its Fourier gradients; with the
   central differences here, a least-squares fit (in log σ) on three training
   photos (skimage astronaut, coffee, chelsea) blurred by known σ from 1 to 3 gave
   c = 0.245, b = 0.03. Photos without strong edges read blurrier than they are:
   the method is blind, and this is its weakness.
2. **Deblur** with a polynomial of the estimated blur ``K``:
   ``p(K) = a₃K³ + a₂K² + a₁K + β``, with ``p(1) = 1`` (flat areas kept),
   ``p'(1) = −1`` and ``p''(1) = α`` (the inverse's first terms at low frequencies;
   α = 2, β = 3 is its Taylor series ``K² − 3K + 3``) and ``p(0) = β`` capping the gain
   where the blur removed everything. Repeated ``n_iter`` times.
3. **Suppress halos**: where the result's gradient points against the input's
   (an overshoot), blend back towards the input by how much it reversed.

Everything runs on ``N×C×H×W`` float32 tensors in 0–1. The free parameters
(``c``, ``b``, ``alpha``, ``beta``, ``n_iter``) are tuned on the tuning photos only
(``evaluate``), never on the evaluation photos.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch

from .degrade import _filter, anisotropic_kernel
from .losses import psnr

LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class PolyblurParams:
    """Polyblur's free parameters.

    Attributes:
        c, b: the blur-estimate constants of ``σ = sqrt(c²/f² − b²)`` (f: the normalised largest gradient).
        alpha, beta: the polynomial's curvature at low frequencies and gain at high ones.
        n_iter: estimate-and-deblur rounds.
        angles: directions at which gradients are measured (interpolated to 30).
        quantile: the extreme quantile the luma is normalised between.
        max_sigma: estimates are clipped to this σ (px): the method is for mild blur.
    """

    c: float = 0.245
    b: float = 0.03
    alpha: float = 2.0
    beta: float = 3.0
    n_iter: int = 1
    angles: int = 6
    quantile: float = 1e-4
    max_sigma: float = 4.0


@dataclass(frozen=True)
class BlurEstimate:
    """An anisotropic Gaussian: σ along ``angle_deg`` (the blurriest direction) and across it."""

    sigma: float
    sigma_across: float
    angle_deg: float


def _luma(x: torch.Tensor) -> torch.Tensor:
    if x.shape[0] == 1:
        return x[0].double()
    w = torch.tensor(LUMA, dtype=torch.float64).view(3, 1, 1)
    return (x.double() * w).sum(0)


def estimate_blur(x: torch.Tensor, params: PolyblurParams = PolyblurParams()) -> BlurEstimate:
    """Estimate the Gaussian blur of one ``C×H×W`` 0–1 image from its directional gradient maxima."""
    y = _luma(x).numpy()
    lo, hi = np.quantile(y, [params.quantile, 1.0 - params.quantile])
    y = (y - lo) / max(hi - lo, 1e-6)
    gx = (y[1:-1, 2:] - y[1:-1, :-2]) / 2.0
    gy = (y[2:, 1:-1] - y[:-2, 1:-1]) / 2.0
    thetas = np.arange(params.angles) * math.pi / params.angles
    f = np.array([np.abs(math.cos(t) * gx + math.sin(t) * gy).max() for t in thetas])
    # Periodic (period π) cubic interpolation to 30 angles through the measured ones.
    fine = np.arange(30) * math.pi / 30
    ext_t = np.concatenate([thetas - math.pi, thetas, thetas + math.pi])
    ext_f = np.concatenate([f, f, f])
    from scipy.interpolate import CubicSpline

    ff = np.maximum(CubicSpline(ext_t, ext_f)(fine), 1e-6)
    i = int(np.argmin(ff))
    f_min, f_across = ff[i], ff[(i + 15) % 30]

    def sigma(v: float) -> float:
        return float(min(math.sqrt(max(params.c**2 / v**2 - params.b**2, 1e-8)), params.max_sigma))

    return BlurEstimate(sigma(f_min), sigma(f_across), math.degrees(fine[i]))


def _coefficients(alpha: float, beta: float) -> tuple[float, float, float, float]:
    return alpha / 2 - beta + 2, 3 * beta - alpha - 6, 5 - 3 * beta + alpha / 2, beta


def _deblur_once(x: torch.Tensor, est: BlurEstimate, params: PolyblurParams) -> torch.Tensor:
    # The kernel's σx runs along the estimated blur direction.
    k = anisotropic_kernel(max(est.sigma, 1e-3), max(est.sigma_across, 1e-3), est.angle_deg)
    a3, a2, a1, a0 = _coefficients(params.alpha, params.beta)
    k1 = _filter(x, k)
    k2 = _filter(k1, k)
    k3 = _filter(k2, k)
    z = a3 * k3 + a2 * k2 + a1 * k1 + a0 * x
    return _remove_halos(x, z)


def _grad(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    gx = torch.zeros_like(u)
    gy = torch.zeros_like(u)
    gx[..., :, 1:-1] = (u[..., :, 2:] - u[..., :, :-2]) / 2
    gy[..., 1:-1, :] = (u[..., 2:, :] - u[..., :-2, :]) / 2
    return gx, gy


def _remove_halos(y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Blend ``z`` towards ``y`` where its gradient reversed the input's (overshoot halos)."""
    yx, yy = _grad(y)
    zx, zy = _grad(z)
    dot = yx * zx + yy * zy
    # Where the dot product is negative, the output's gradient points against the input's:
    # shrink the change there by the projected reversal (0 = keep, 1 = back to the input).
    norm = zx * zx + zy * zy + 1e-8
    w = torch.clamp(-dot / norm, 0.0, 1.0)
    return y + (1.0 - w) * (z - y)


def polyblur(x: torch.Tensor, params: PolyblurParams = PolyblurParams()) -> torch.Tensor:
    """Blind deblurring of ``C×H×W`` or ``N×C×H×W`` float32 0–1 images (each estimated on its own).

    Returns:
        The same shape, clamped to 0–1.
    """
    batched = x if x.dim() == 4 else x[None]
    outs = []
    for img in batched:
        z = img
        for _ in range(max(1, params.n_iter)):
            z = _deblur_once(z, estimate_blur(z, params), params)
        outs.append(z.clamp(0.0, 1.0))
    out = torch.stack(outs)
    return out if x.dim() == 4 else out[0]


#: The tuning grid (every combination is scored on the tuning photos).
GRID = {"c": (0.2, 0.245, 0.3), "alpha": (2.0, 6.0), "beta": (1.5, 3.0), "n_iter": (1, 2)}


def tune_polyblur(pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[PolyblurParams, float]:
    """The grid setting with the best mean PSNR over ``(degraded, sharp)`` pairs, and that PSNR."""
    best: tuple[PolyblurParams, float] | None = None
    for values in itertools.product(*GRID.values()):
        prm = PolyblurParams(**dict(zip(GRID, values)))
        score = float(np.mean([psnr(polyblur(d, prm), s) for d, s in pairs]))
        if best is None or score > best[1]:
            best = (prm, score)
    assert best is not None
    return best
