"""Reconstruction losses and their registry.

Every loss takes ``prediction`` and ``target`` of shape ``N×C×H×W`` (float32,
values nominally in 0–1) and returns a scalar tensor. ``LOSSES`` maps the names
used in ``LossConfig`` weights to these functions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from pytorch_msssim import ms_ssim, ssim


def l1_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error."""
    return (pred - target).abs().mean()


def charbonnier_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Charbonnier (smooth L1): ``mean(sqrt((p - t)² + eps²))``."""
    return torch.sqrt((pred - target).pow(2) + eps * eps).mean()


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    return F.mse_loss(pred, target)


def msssim_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1 − MS-SSIM`` (pytorch-msssim, data range 1).

    MS-SSIM needs five scales and so images of at least ~160 px; on smaller
    crops this falls back to single-scale ``1 − SSIM`` (window 7 for tiny crops).
    """
    p, t = pred.clamp(0, 1), target.clamp(0, 1)
    if min(p.shape[-2:]) > 160:
        return 1.0 - ms_ssim(p, t, data_range=1.0, size_average=True)
    win = 11 if min(p.shape[-2:]) >= 11 else 3
    return 1.0 - ssim(p, t, data_range=1.0, size_average=True, win_size=win)


def _sobel(x: torch.Tensor) -> torch.Tensor:
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=x.dtype, device=x.device)
    k = torch.stack([kx, kx.t()])[:, None]  # 2×1×3×3
    c = x.shape[1]
    xp = F.pad(x, (1, 1, 1, 1), mode="replicate")
    return F.conv2d(xp, k.repeat(c, 1, 1, 1), groups=c)


def edge_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between Sobel gradients (x and y) of prediction and target."""
    return (_sobel(pred) - _sobel(target)).abs().mean()


def fft_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between FFT amplitude spectra (orthonormal 2-D rFFT)."""
    fp = torch.fft.rfft2(pred, norm="ortho").abs()
    ft = torch.fft.rfft2(target, norm="ortho").abs()
    return (fp - ft).abs().mean()


#: The floor of ``psnr40_loss`` and ``noharm_loss``: an MSE of 1e-4 is 40 dB.
PSNR40_FLOOR = 1e-4


def crop_log_mse(pred: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Each sample's ``log10(MSE + eps)`` (−PSNR/10 per crop down to the floor ``eps``), shape ``N``."""
    return torch.log10((pred - target).pow(2).flatten(1).mean(1) + eps)


def psnr_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean over the batch of each sample's ``log10(MSE)``, i.e. −PSNR/10 per crop.

    Every crop counts alike, as every (photo, case) does in the suite's mean PSNR: a nearly
    sharp crop's small error weighs as much as a noisy crop's large one, where a summed
    Charbonnier is ruled by the noisy crops. Measured (model card, "A probe of the loss"):
    alone on the users' mix it taught the real-time student the identity, because
    ``log10(MSE + 1e-8)`` pays far more for leaving clean crops untouched than for any
    correction; it needs a floor or a mix with fewer nearly clean crops.
    """
    return crop_log_mse(pred, target, eps).mean()


def psnr40_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``psnr_loss`` with a floor: ``log10(MSE + 1e-4)``, every crop alike up to 40 dB.

    Past 40 dB a crop stops paying, so clean and nearly clean crops no longer reward the
    identity above every correction (what the floorless form taught the student).
    """
    return psnr_loss(pred, target, eps=PSNR40_FLOOR)


def noharm_loss(pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of how far each crop's output falls below its input, in ``psnr40`` units.

    ``relu(log10(MSE(pred) + 1e-4) - log10(MSE(degraded) + 1e-4))``: zero for a crop the output
    does not make worse, and the shortfall (dB / 10) where it does. The suite asks for "never
    worse than the input" on every case; this term pays for exactly that, crop by crop, and
    nothing for how far above the input a crop goes (the reconstruction terms do that).
    """
    shortfall = crop_log_mse(pred, target, PSNR40_FLOOR) - crop_log_mse(degraded, target, PSNR40_FLOOR)
    return torch.relu(shortfall).mean()


#: Reconstruction loss registry: name → function(pred, target) → scalar.
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "l1": l1_loss,
    "charbonnier": charbonnier_loss,
    "mse": mse_loss,
    "psnr": psnr_loss,
    "psnr40": psnr40_loss,
    "msssim": msssim_loss,
    "edge": edge_loss,
    "fft": fft_loss,
}


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB of ``pred`` (clamped to 0–1) against ``target``, data range 1."""
    mse = F.mse_loss(pred.clamp(0, 1), target).item()
    return float("inf") if mse == 0 else -10.0 * float(torch.log10(torch.tensor(mse)))


def ssim_value(pred: torch.Tensor, target: torch.Tensor) -> float:
    """SSIM (pytorch-msssim, window 11 or 3 for tiny images) of ``pred`` against ``target``."""
    win = 11 if min(pred.shape[-2:]) >= 11 else 3
    return float(ssim(pred.clamp(0, 1), target.clamp(0, 1), data_range=1.0, win_size=win))


def msssim_value(pred: torch.Tensor, target: torch.Tensor) -> float:
    """MS-SSIM (needs > 160 px per side; smaller images report SSIM)."""
    if min(pred.shape[-2:]) > 160:
        return float(ms_ssim(pred.clamp(0, 1), target.clamp(0, 1), data_range=1.0))
    return ssim_value(pred, target)
