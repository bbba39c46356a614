"""Synthetic degradations: the random training pipeline and the fixed, named evaluation suite.

Every operation takes and returns a ``3×H×W`` (or ``1×H×W``) float32 torch
tensor with values in 0–1 and keeps its shape. Randomness only comes from the
``numpy.random.Generator`` passed in, so a seed fixes every sample.

The ops model a soft webcam or photo: optical blur (Gaussian, defocus disk),
short hand/subject motion, downscale-then-upscale softness of a low-bandwidth
video call, sensor noise and JPEG compression.
"""

from __future__ import annotations

import dataclasses
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def _filter(x: torch.Tensor, kernel: np.ndarray) -> torch.Tensor:
    """Convolve every channel of ``C×H×W`` ``x`` with a 2-D kernel (reflect padding)."""
    k = torch.from_numpy((kernel / kernel.sum()).astype(np.float32))
    kh, kw = k.shape
    c = x.shape[0]
    pad = (kw // 2, kw // 2, kh // 2, kh // 2)
    # Reflect padding needs the pad to be smaller than the image; fall back to replicate.
    mode = "reflect" if x.shape[-1] > kw // 2 and x.shape[-2] > kh // 2 else "replicate"
    xp = F.pad(x[None], pad, mode=mode)
    return F.conv2d(xp, k.expand(c, 1, kh, kw).contiguous(), groups=c)[0]


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Isotropic Gaussian kernel of radius ``ceil(3σ)``, summing to 1."""
    r = max(1, int(math.ceil(3.0 * sigma)))
    t = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-(t**2) / (2.0 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


def disk_kernel(radius: float, supersample: int = 8) -> np.ndarray:
    """Anti-aliased defocus disk of the given radius in pixels, summing to 1."""
    r = int(math.ceil(radius))
    n = (2 * r + 1) * supersample
    t = (np.arange(n) + 0.5) / supersample - (r + 0.5)
    yy, xx = np.meshgrid(t, t, indexing="ij")
    inside = (xx**2 + yy**2 <= radius**2).astype(np.float64)
    k = inside.reshape(2 * r + 1, supersample, 2 * r + 1, supersample).mean(axis=(1, 3))
    return k / k.sum()


def motion_kernel(length: float, angle_deg: float, supersample: int = 8) -> np.ndarray:
    """Anti-aliased straight-line motion kernel of ``length`` pixels at ``angle_deg``."""
    r = int(math.ceil(length / 2.0)) + 1
    size = 2 * r + 1
    k = np.zeros((size, size), dtype=np.float64)
    n = max(2, int(length * supersample * 2))
    a = math.radians(angle_deg)
    for s in np.linspace(-length / 2.0, length / 2.0, n):
        x, y = r + s * math.cos(a), r - s * math.sin(a)
        x0, y0 = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - x0, y - y0
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                if 0 <= y0 + dy < size and 0 <= x0 + dx < size:
                    k[y0 + dy, x0 + dx] += wy * wx
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels."""
    return _filter(x, gaussian_kernel(sigma)) if sigma > 0 else x


def defocus_blur(x: torch.Tensor, radius: float) -> torch.Tensor:
    """Defocus (disk) blur of ``radius`` pixels."""
    return _filter(x, disk_kernel(radius)) if radius > 0 else x


def motion_blur(x: torch.Tensor, length: float, angle_deg: float) -> torch.Tensor:
    """Linear motion blur of ``length`` pixels at ``angle_deg`` degrees."""
    return _filter(x, motion_kernel(length, angle_deg)) if length > 1 else x


def down_up(x: torch.Tensor, scale: float, mode: str = "bicubic") -> torch.Tensor:
    """Downscale by ``scale`` (anti-aliased) and upscale back to the original size."""
    h, w = x.shape[-2:]
    sh, sw = max(1, round(h / scale)), max(1, round(w / scale))
    small = F.interpolate(x[None], size=(sh, sw), mode="bilinear", antialias=True, align_corners=False)
    big = F.interpolate(small, size=(h, w), mode=mode, align_corners=False)
    return big[0].clamp(0.0, 1.0)


def add_noise(x: torch.Tensor, read_sigma: float, shot: float, rng: np.random.Generator) -> torch.Tensor:
    """Sensor noise: Gaussian with variance ``read_sigma² + shot·x`` per pixel."""
    std = torch.sqrt(read_sigma**2 + shot * x.clamp(min=0.0))
    n = torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    return (x + std * n).clamp(0.0, 1.0)


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """JPEG round trip at ``quality`` (1–95) with 4:2:0 chroma subsampling."""
    arr = (x.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()
    img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(quality))
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    if out.ndim == 2:
        out = out[..., None]
    return torch.from_numpy(out.astype(np.float32) / 255.0).permute(2, 0, 1).contiguous()


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round to 8-bit levels (what a real input frame carries)."""
    return torch.round(x.clamp(0, 1) * 255.0) / 255.0


@dataclass(frozen=True)
class DegradeConfig:
    """The random training degradation pipeline.

    Each op is applied with its probability; the applied blur/resample/noise
    ops run in random order and JPEG (when drawn) runs last, as in a camera.

    Attributes:
        p_gauss: probability of Gaussian blur; ``gauss_sigma`` its σ range (px).
        p_defocus: probability of disk blur; ``defocus_radius`` its radius range (px).
        p_motion: probability of linear motion blur; ``motion_length`` its length range (px).
        p_down: probability of downscale-then-upscale; ``down_scale`` its factor range.
        p_noise: probability of sensor noise; ``noise_sigma`` read-noise σ range
            (0–1 units), ``noise_shot`` the shot-noise gain range.
        p_jpeg: probability of JPEG; ``jpeg_quality`` its quality range.
        min_ops: draw again until at least this many ops are applied (0 lets
            some samples stay clean, which teaches the model to leave sharp
            input alone).
        quantize: round the result to 8-bit levels.
    """

    p_gauss: float = 0.55
    gauss_sigma: tuple[float, float] = (0.5, 2.5)
    p_defocus: float = 0.2
    defocus_radius: tuple[float, float] = (1.0, 3.5)
    p_motion: float = 0.15
    motion_length: tuple[float, float] = (3.0, 9.0)
    p_down: float = 0.35
    down_scale: tuple[float, float] = (1.3, 3.0)
    p_noise: float = 0.4
    noise_sigma: tuple[float, float] = (0.002, 0.025)
    noise_shot: tuple[float, float] = (0.0, 0.01)
    p_jpeg: float = 0.4
    jpeg_quality: tuple[int, int] = (30, 90)
    min_ops: int = 1
    quantize: bool = True

    def __post_init__(self) -> None:
        """Refuse settings the pipeline cannot draw from (one line naming the setting).

        Raises:
            ValueError: a probability outside 0–1, a range that is not two ordered
                non-negative numbers (JPEG quality: whole numbers 1–95), or ``min_ops``
                not a whole number 0–6.
        """
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("p_"):
                if not _is_number(value) or not 0.0 <= value <= 1.0:
                    raise ValueError(f"degrade.{f.name} must be a probability from 0 to 1, got {value!r}")
            elif isinstance(f.default, tuple):
                whole = f.name == "jpeg_quality"
                ok = (
                    isinstance(value, (tuple, list)) and len(value) == 2
                    and all(_is_number(v) and (not whole or float(v).is_integer()) for v in value)
                    and 0 <= value[0] <= value[1] and (not whole or (1 <= value[0] and value[1] <= 95))
                )
                if not ok:
                    kind = "two whole numbers from 1 to 95" if whole else "two non-negative numbers"
                    raise ValueError(f"degrade.{f.name} must be {kind}, low then high, got {value!r}")
        if isinstance(self.min_ops, bool) or not isinstance(self.min_ops, int) or not 0 <= self.min_ops <= 6:
            raise ValueError(f"degrade.min_ops must be a whole number from 0 to 6, got {self.min_ops!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def random_degrade(x: torch.Tensor, cfg: DegradeConfig, rng: np.random.Generator) -> torch.Tensor:
    """Apply the random pipeline to one image.

    Args:
        x: ``C×H×W`` float32, 0–1 (the sharp image).
        cfg: probabilities and ranges.
        rng: the only source of randomness.

    Returns:
        The degraded ``C×H×W`` float32 image, 0–1.
    """
    u = rng.uniform
    for _ in range(100):
        ops: list[Callable[[torch.Tensor], torch.Tensor]] = []
        if u() < cfg.p_gauss:
            s = u(*cfg.gauss_sigma)
            ops.append(lambda t, s=s: gaussian_blur(t, s))
        if u() < cfg.p_defocus:
            r = u(*cfg.defocus_radius)
            ops.append(lambda t, r=r: defocus_blur(t, r))
        if u() < cfg.p_motion:
            ln, ang = u(*cfg.motion_length), u(0.0, 180.0)
            ops.append(lambda t, ln=ln, ang=ang: motion_blur(t, ln, ang))
        if u() < cfg.p_down:
            sc = u(*cfg.down_scale)
            mode = "bicubic" if u() < 0.6 else "bilinear"
            ops.append(lambda t, sc=sc, mode=mode: down_up(t, sc, mode))
        if u() < cfg.p_noise:
            ns, sh = u(*cfg.noise_sigma), u(*cfg.noise_shot)
            ops.append(lambda t, ns=ns, sh=sh: add_noise(t, ns, sh, rng))
        q = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1)) if u() < cfg.p_jpeg else 0
        if len(ops) + (q > 0) >= cfg.min_ops:
            break
    order = rng.permutation(len(ops))
    for i in order:
        x = ops[i](x)
    if q:
        x = jpeg(x, q)
    return quantize(x) if cfg.quantize else x.clamp(0.0, 1.0)


@dataclass(frozen=True)
class Step:
    """One fixed operation of a named evaluation degradation.

    Attributes:
        op: one of ``gauss``, ``defocus``, ``motion``, ``down``, ``noise``, ``jpeg``.
        value: σ, radius, length, scale, read-noise σ or quality.
        extra: motion angle in degrees, or shot-noise gain.
    """

    op: str
    value: float
    extra: float = 0.0


def _apply_step(x: torch.Tensor, step: Step, rng: np.random.Generator) -> torch.Tensor:
    if step.op == "gauss":
        return gaussian_blur(x, step.value)
    if step.op == "defocus":
        return defocus_blur(x, step.value)
    if step.op == "motion":
        return motion_blur(x, step.value, step.extra)
    if step.op == "down":
        return down_up(x, step.value)
    if step.op == "noise":
        return add_noise(x, step.value, step.extra, rng)
    if step.op == "jpeg":
        return jpeg(x, int(step.value))
    raise ValueError(f"unknown degradation op {step.op!r}")


#: The fixed, named evaluation suite: name → steps applied in order.
EVAL_SUITE: dict[str, tuple[Step, ...]] = {
    "gauss_s1.0": (Step("gauss", 1.0),),
    "gauss_s2.0": (Step("gauss", 2.0),),
    "defocus_r2": (Step("defocus", 2.0),),
    "motion_7": (Step("motion", 7.0, 30.0),),
    "jpeg_q30": (Step("gauss", 0.8), Step("jpeg", 30)),
    "down_2x": (Step("down", 2.0),),
    "noise_blur": (Step("gauss", 1.5), Step("noise", 0.015, 0.002)),
    "webcam": (Step("down", 2.0), Step("noise", 0.01, 0.002), Step("jpeg", 60)),
}


def suite_degrade(x: torch.Tensor, name: str, seed: int = 0) -> torch.Tensor:
    """Apply the named evaluation degradation ``name`` (a key of ``EVAL_SUITE``).

    Args:
        x: ``C×H×W`` float32, 0–1.
        name: degradation name.
        seed: seeds the noise, so the same image and seed always give the same result.

    Returns:
        ``C×H×W`` float32 in 0–1, rounded to 8-bit levels.

    Raises:
        KeyError: unknown name (the message lists the valid ones).
    """
    if name not in EVAL_SUITE:
        raise KeyError(f"unknown degradation {name!r}; choose from {', '.join(EVAL_SUITE)}")
    rng = np.random.default_rng(seed)
    for step in EVAL_SUITE[name]:
        x = _apply_step(x, step, rng)
    return quantize(x)


def seed_everything(seed: int) -> None:
    """Seed python, numpy's legacy global state and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
