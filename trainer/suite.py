"""The fixed, named evaluation suite: what validation and ``kdsharp-train evaluate`` score.

The first eight cases are the first release's (kept for continuity; they degrade
with the training pipeline's own ops). The cases added for issue 14 model what
users bring: library resamplers, mild and anisotropic blur, motion of any angle,
camera noise, JPEG at both chroma layouts, H.264/HEVC streams, a webcam chain and
a sharp photo (``clean``, scored apart: a sharpener must leave it alone). Their
resizing and JPEG come from ``suite_ops`` (numpy, written apart from training),
so the suite shares no resize or JPEG code with what the models learn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import suite_ops
from .degrade import (
    add_noise,
    anisotropic_blur,
    defocus_blur,
    down_up,
    gaussian_blur,
    jpeg,
    motion_blur,
    poisson_gaussian_noise,
    quantize,
    video_codec,
)


@dataclass(frozen=True)
class Step:
    """One fixed operation of a named evaluation degradation.

    Attributes:
        op: ``gauss``, ``defocus``, ``motion``, ``down``, ``noise``, ``jpeg`` (the first release's), or
            ``aniso`` (σx, σy, angle), ``resize`` (scale down or up with a ``suite_ops`` kernel),
            ``poisson`` (photons at white, read σ, chroma σ), ``sjpeg`` (``suite_ops.jpeg``),
            ``h264`` / ``hevc`` (a PyAV stream at the current size).
        value: σ, radius, length, scale (> 1 shrinks; ``resize`` with ``value`` 0 restores the
            photo's size), read-noise σ, photons at white, quality or CRF.
        extra: motion angle in degrees, shot-noise gain, σy, or read σ.
        more: anisotropic angle or chroma σ.
        kind: ``suite_ops`` kernel of ``resize`` (``+aa`` widens it when shrinking), JPEG subsampling.
    """

    op: str
    value: float
    extra: float = 0.0
    more: float = 0.0
    kind: str = ""


def _resize(x: torch.Tensor, size: tuple[int, int], kind: str) -> torch.Tensor:
    kernel, _, aa = kind.partition("+")
    arr = x.permute(1, 2, 0).double().numpy() * 255.0
    out = suite_ops.resample(arr, size[0], size[1], kernel, antialias=aa == "aa")
    return torch.from_numpy(np.clip(np.round(out), 0, 255) / 255.0).float().permute(2, 0, 1).contiguous()


def _apply_step(x: torch.Tensor, step: Step, rng: np.random.Generator, size: tuple[int, int]) -> torch.Tensor:
    op = step.op
    if op == "gauss":
        return gaussian_blur(x, step.value)
    if op == "defocus":
        return defocus_blur(x, step.value)
    if op == "motion":
        return motion_blur(x, step.value, step.extra)
    if op == "down":
        return down_up(x, step.value)
    if op == "noise":
        return add_noise(x, step.value, step.extra, rng)
    if op == "jpeg":
        return jpeg(x, int(step.value))
    if op == "aniso":
        return anisotropic_blur(x, step.value, step.extra, step.more)
    if op == "resize":
        h, w = x.shape[-2:]
        target = size if step.value == 0 else (max(8, round(h / step.value)), max(8, round(w / step.value)))
        return _resize(x, target, step.kind)
    if op == "poisson":
        return poisson_gaussian_noise(x, step.value, step.extra, step.more, rng)
    if op == "sjpeg":
        arr = suite_ops.jpeg(x.permute(1, 2, 0).double().numpy() * 255.0, int(step.value), step.kind or "4:2:0")
        return torch.from_numpy(arr / 255.0).float().permute(2, 0, 1).contiguous()
    if op in ("h264", "hevc"):
        codec = "libx264" if op == "h264" else "libx265"
        return video_codec(x, int(step.value), 1.0, codec, "cv2_cubic", rng)
    raise ValueError(f"unknown degradation op {op!r}")


#: The fixed, named evaluation suite: name → steps applied in order.
EVAL_SUITE: dict[str, tuple[Step, ...]] = {
    # The first release's eight.
    "gauss_s1.0": (Step("gauss", 1.0),),
    "gauss_s2.0": (Step("gauss", 2.0),),
    "defocus_r2": (Step("defocus", 2.0),),
    "motion_7": (Step("motion", 7.0, 30.0),),
    "jpeg_q30": (Step("gauss", 0.8), Step("jpeg", 30)),
    "down_2x": (Step("down", 2.0),),
    "noise_blur": (Step("gauss", 1.5), Step("noise", 0.015, 0.002)),
    "webcam": (Step("down", 2.0), Step("noise", 0.01, 0.002), Step("jpeg", 60)),
    # Issue 14: what users bring.
    "gauss_s0.6": (Step("gauss", 0.6),),
    "aniso_2x0.6": (Step("aniso", 2.0, 0.6, 30.0),),
    "motion_5": (Step("motion", 5.0, 100.0),),
    "motion_11": (Step("motion", 11.0, 150.0),),
    "area_cubic_2x": (Step("resize", 2.0, kind="box+aa"), Step("resize", 0, kind="cubic075")),
    "lanczos_bicubic_3x": (Step("resize", 3.0, kind="lanczos3+aa"), Step("resize", 0, kind="cubic")),
    "bilinear_1.5x": (Step("resize", 1.5, kind="triangle"), Step("resize", 0, kind="triangle")),
    "area_lanczos_4x": (Step("resize", 4.0, kind="box+aa"), Step("resize", 0, kind="lanczos3")),
    "poisson_chroma": (Step("gauss", 1.0), Step("poisson", 300.0, 0.004, 0.01)),
    "jpeg444_q50": (Step("gauss", 0.7), Step("sjpeg", 50, kind="4:4:4")),
    "jpeg420_q20": (Step("sjpeg", 20, kind="4:2:0"),),
    "h264_crf32": (Step("resize", 2.0, kind="box+aa"), Step("h264", 32), Step("resize", 0, kind="cubic075")),
    "hevc_crf36": (Step("resize", 1.5, kind="triangle+aa"), Step("hevc", 36), Step("resize", 0, kind="lanczos3")),
    "chain_webcam": (
        Step("gauss", 0.8), Step("resize", 2.0, kind="box+aa"), Step("poisson", 500.0, 0.003, 0.008),
        Step("sjpeg", 70, kind="4:2:0"), Step("resize", 0, kind="triangle"),
    ),
    # A sharp photo, scored apart: the output must stay ≥ 40 dB against it.
    "clean": (),
}

#: The first release's cases (the card's continuity rows).
LEGACY = ("gauss_s1.0", "gauss_s2.0", "defocus_r2", "motion_7", "jpeg_q30", "down_2x", "noise_blur", "webcam")
#: The case scored apart from the mean.
CLEAN = "clean"
#: The cases averaged into the headline mean: every one but ``clean``.
SCORED = tuple(n for n in EVAL_SUITE if n != CLEAN)
#: Families of cases, for "≥ Polyblur on every family".
FAMILIES: dict[str, tuple[str, ...]] = {
    "blur": ("gauss_s0.6", "gauss_s1.0", "gauss_s2.0", "aniso_2x0.6", "defocus_r2"),
    "motion": ("motion_5", "motion_7", "motion_11"),
    "resize": ("down_2x", "area_cubic_2x", "lanczos_bicubic_3x", "bilinear_1.5x", "area_lanczos_4x"),
    "noise": ("noise_blur", "poisson_chroma"),
    "jpeg": ("jpeg_q30", "jpeg444_q50", "jpeg420_q20"),
    "video": ("h264_crf32", "hevc_crf36"),
    "chain": ("webcam", "chain_webcam"),
}


def suite_degrade(x: torch.Tensor, name: str, seed: int = 0) -> torch.Tensor:
    """Apply the named evaluation degradation ``name`` (a key of ``EVAL_SUITE``).

    Args:
        x: ``C×H×W`` float32, 0–1.
        name: degradation name.
        seed: seeds the noise and the video drift, so the same image and seed always give the same result.

    Returns:
        ``C×H×W`` float32 in 0–1, rounded to 8-bit levels.

    Raises:
        KeyError: unknown name (the message lists the valid ones).
    """
    if name not in EVAL_SUITE:
        raise KeyError(f"unknown degradation {name!r}; choose from {', '.join(EVAL_SUITE)}")
    rng = np.random.default_rng(seed)
    size = (x.shape[-2], x.shape[-1])
    for step in EVAL_SUITE[name]:
        x = _apply_step(x, step, rng, size)
    return quantize(x)
