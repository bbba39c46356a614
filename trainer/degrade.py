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
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .conditions import DegradationRecord


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


def anisotropic_kernel(sigma_x: float, sigma_y: float, angle_deg: float) -> np.ndarray:
    """Rotated anisotropic Gaussian kernel (σ along the rotated x and y axes), summing to 1."""
    r = max(1, int(math.ceil(3.0 * max(sigma_x, sigma_y))))
    t = np.arange(-r, r + 1, dtype=np.float64)
    yy, xx = np.meshgrid(t, t, indexing="ij")
    a = math.radians(angle_deg)
    u = xx * math.cos(a) + yy * math.sin(a)
    v = -xx * math.sin(a) + yy * math.cos(a)
    k = np.exp(-0.5 * ((u / max(sigma_x, 1e-3)) ** 2 + (v / max(sigma_y, 1e-3)) ** 2))
    return k / k.sum()


def anisotropic_blur(x: torch.Tensor, sigma_x: float, sigma_y: float, angle_deg: float) -> torch.Tensor:
    """Rotated anisotropic Gaussian blur (astigmatism, slight shake)."""
    return _filter(x, anisotropic_kernel(sigma_x, sigma_y, angle_deg))


def down_up(x: torch.Tensor, scale: float, mode: str = "bicubic") -> torch.Tensor:
    """Downscale by ``scale`` (anti-aliased) and upscale back to the original size (torch kernels)."""
    h, w = x.shape[-2:]
    sh, sw = max(1, round(h / scale)), max(1, round(w / scale))
    small = F.interpolate(x[None], size=(sh, sw), mode="bilinear", antialias=True, align_corners=False)
    big = F.interpolate(small, size=(h, w), mode=mode, align_corners=False)
    return big[0].clamp(0.0, 1.0)


#: Resampling kernels of the two libraries users resize with. OpenCV's linear and cubic
#: do not widen their kernel when shrinking (they alias, as many video scalers do); its
#: ``area`` and Pillow's filters average properly. Pillow's bicubic is a = −0.5, OpenCV's a = −0.75.
RESAMPLERS: dict[str, tuple[str, int]] = {}


def _resamplers() -> dict[str, tuple[str, int]]:
    if not RESAMPLERS:
        import cv2

        RESAMPLERS.update({
            "pil_box": ("pil", int(Image.Resampling.BOX)),
            "pil_bilinear": ("pil", int(Image.Resampling.BILINEAR)),
            "pil_bicubic": ("pil", int(Image.Resampling.BICUBIC)),
            "pil_lanczos": ("pil", int(Image.Resampling.LANCZOS)),
            "cv2_area": ("cv2", cv2.INTER_AREA),
            "cv2_linear": ("cv2", cv2.INTER_LINEAR),
            "cv2_cubic": ("cv2", cv2.INTER_CUBIC),
            "cv2_lanczos": ("cv2", cv2.INTER_LANCZOS4),
        })
    return RESAMPLERS


#: Kernels that make sense for the way up (area/box are for shrinking only).
UPSAMPLERS = ("pil_bilinear", "pil_bicubic", "pil_lanczos", "cv2_linear", "cv2_cubic", "cv2_lanczos")


def resize_image(x: torch.Tensor, size: tuple[int, int], kernel: str) -> torch.Tensor:
    """Resize ``C×H×W`` 0–1 ``x`` to ``size = (h, w)`` with a named library kernel (``RESAMPLERS``).

    Pillow works on 8-bit images (as it does for users), OpenCV on float32.
    """
    lib, flag = _resamplers()[kernel]
    h, w = size
    arr = x.clamp(0, 1).permute(1, 2, 0).numpy()
    if lib == "cv2":
        import cv2

        out = cv2.resize(np.ascontiguousarray(arr), (w, h), interpolation=flag)
        if out.ndim == 2:
            out = out[..., None]
        out = out.astype(np.float32)
    else:
        u8 = (arr * 255.0 + 0.5).astype(np.uint8)
        chans = [np.asarray(Image.fromarray(u8[..., c]).resize((w, h), Image.Resampling(flag))) for c in range(u8.shape[2])]
        out = np.stack(chans, axis=2).astype(np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(out)).permute(2, 0, 1).clamp(0.0, 1.0)


def resample_down_up(x: torch.Tensor, scale: float, down: str, up: str) -> torch.Tensor:
    """Shrink by ``scale`` with kernel ``down`` and enlarge back with kernel ``up`` (``RESAMPLERS`` names)."""
    h, w = x.shape[-2:]
    small = resize_image(x, (max(1, round(h / scale)), max(1, round(w / scale))), down)
    return resize_image(small, (h, w), up)


def add_noise(x: torch.Tensor, read_sigma: float, shot: float, rng: np.random.Generator) -> torch.Tensor:
    """Sensor noise: Gaussian with variance ``read_sigma² + shot·x`` per pixel."""
    std = torch.sqrt(read_sigma**2 + shot * x.clamp(min=0.0))
    n = torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    return (x + std * n).clamp(0.0, 1.0)


def poisson_gaussian_noise(
    x: torch.Tensor, peak: float, read_sigma: float, chroma_sigma: float, rng: np.random.Generator
) -> torch.Tensor:
    """Sensor noise as a camera makes it: Poisson photon noise, Gaussian read noise, blotchy chroma noise.

    Args:
        x: ``C×H×W`` 0–1.
        peak: photons at white (lower = noisier); the shot noise is ``Poisson(x·peak)/peak``.
        read_sigma: Gaussian read-noise σ in 0–1 units, per channel.
        chroma_sigma: scale of the colour noise added to the two chroma axes, the low-frequency
            colour speckle of small sensors and their demosaicing (RGB input only): white noise of
            σ = 2·chroma_sigma blurred by a σ = 1 px Gaussian, which leaves σ ≈ 0.56·chroma_sigma.
    """
    shot = torch.from_numpy(rng.poisson(np.clip(x.numpy(), 0, 1) * peak).astype(np.float32) / peak)
    y = shot + read_sigma * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    if chroma_sigma > 0 and x.shape[0] == 3:
        c = torch.from_numpy(rng.standard_normal((2, *x.shape[1:])).astype(np.float32))
        c = gaussian_blur(c, 1.0) * (chroma_sigma * 2.0)
        cb, cr = c[0], c[1]
        # BT.601 YCbCr → RGB of a pure chroma change: luma stays put.
        y = y + torch.stack([1.402 * cr, -0.344136 * cb - 0.714136 * cr, 1.772 * cb])
    return y.clamp(0.0, 1.0)


def _to_u8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()


def _from_u8(out: np.ndarray) -> torch.Tensor:
    if out.ndim == 2:
        out = out[..., None]
    return torch.from_numpy(out.astype(np.float32) / 255.0).permute(2, 0, 1).contiguous()


def jpeg(x: torch.Tensor, quality: int, subsampling: str = "4:2:0", library: str = "pil") -> torch.Tensor:
    """JPEG round trip at ``quality`` (1–95) with Pillow or OpenCV, 4:2:0 or 4:4:4 chroma."""
    arr = _to_u8(x)
    if subsampling not in ("4:2:0", "4:4:4"):
        raise ValueError(f"JPEG subsampling must be 4:2:0 or 4:4:4, got {subsampling!r}")
    if library == "cv2":
        import cv2

        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        if arr.shape[-1] == 3:
            params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                       cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420 if subsampling == "4:2:0" else cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
        bgr = arr[..., ::-1] if arr.shape[-1] == 3 else arr[..., 0]
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), params)
        if not ok:
            raise ValueError("OpenCV could not encode the JPEG")
        dec = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        return _from_u8(dec[..., ::-1] if dec.ndim == 3 else dec)
    if library != "pil":
        raise ValueError(f"JPEG library must be pil or cv2, got {library!r}")
    img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(quality), subsampling=0 if subsampling == "4:4:4" else 2)
    return _from_u8(np.asarray(Image.open(io.BytesIO(buf.getvalue()))))


def video_codec(
    x: torch.Tensor, crf: int, scale: float, codec: str, up: str, rng: np.random.Generator, frames: int = 3
) -> torch.Tensor:
    """H.264/HEVC round trip through PyAV, at a reduced size, then enlarged back (a call or a stream).

    A few frames are encoded, each shifted by a pixel or two as a hand-held camera drifts,
    so the frame kept is an inter-coded one, as almost every frame of a real stream is.

    Args:
        x: ``C×H×W`` 0–1 (gray is coded as gray-in-RGB and returned with C = 1).
        crf: constant rate factor (higher = more loss; 20–40 is common).
        scale: the stream's size is the image's divided by this (≥ 1).
        codec: ``libx264`` or ``libx265``.
        up: ``RESAMPLERS`` kernel for the way back up (the way down is OpenCV area, as encoders' scalers).
        rng: draws the drift.
    """
    import av

    c, h, w = x.shape
    rgb = x.expand(3, h, w) if c == 1 else x
    sh, sw = max(16, 2 * round(h / scale / 2)), max(16, 2 * round(w / scale / 2))
    small = resize_image(rgb, (sh, sw), "cv2_area") if (sh, sw) != (h, w) else rgb
    base = _to_u8(small)
    # Encoders code whole macroblocks (16 px, x265 up to 64): the frame is padded to a multiple of
    # 16 and at least 64 px by repeating its edges, as encoders do, and cut back after decoding.
    # (libx265 also corrupts memory on frames below about 64 px.)
    ph, pw = max(64, -(-sh // 16) * 16), max(64, -(-sw // 16) * 16)
    base = np.pad(base, ((0, ph - sh), (0, pw - sw), (0, 0)), mode="edge")
    out = io.BytesIO()
    container = av.open(out, mode="w", format="matroska")
    stream = container.add_stream(codec, rate=25)
    stream.width, stream.height, stream.pix_fmt = pw, ph, "yuv420p"
    # One thread: the encoders' threading makes their output vary from run to run.
    opts = {"crf": str(int(crf)), "preset": "veryfast", "threads": "1"}
    if codec == "libx264":
        # x264's macroblock tree, on a stream this short, coded the same frames three different
        # ways from run to run (measured: 40 runs, 3 bitstreams); without it every run is the same.
        opts["x264-params"] = "mbtree=0"
    if codec == "libx265":
        opts["x265-params"] = "log-level=none:pools=none:frame-threads=1"
    stream.options = opts
    shifts = [(0, 0)] + [tuple(int(v) for v in rng.integers(-2, 3, size=2)) for _ in range(frames - 1)]
    shifts = shifts[::-1]  # the last frame is the unshifted one: it lines up with the sharp image
    for index, (dy, dx) in enumerate(shifts):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.roll(base, (dy, dx), axis=(0, 1))), format="rgb24")
        frame.pts = index
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    decoded = None
    with av.open(io.BytesIO(out.getvalue()), mode="r") as inp:
        for fr in inp.decode(video=0):
            decoded = fr.to_ndarray(format="rgb24")
    if decoded is None:
        raise ValueError(f"{codec} produced no frame")
    y = _from_u8(decoded[:sh, :sw])
    if (sh, sw) != (h, w):
        y = resize_image(y, (h, w), up)
    return y.mean(0, keepdim=True) if c == 1 else y


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round to 8-bit levels (what a real input frame carries)."""
    return torch.round(x.clamp(0, 1) * 255.0) / 255.0


def is_number(value: object) -> bool:
    """A finite int or float (not a bool): what a numeric setting from JSON must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class DegradeConfig:
    """The random training degradation pipeline.

    Each op is applied with its probability; the applied blur/resample/noise ops run
    in random order, and compression (JPEG or video, when drawn) runs last, as in a
    camera or a call. With probability ``p_chain`` a sample is instead a whole
    webcam → encoder → display chain (blur, shrink, sensor noise, codec, enlarge);
    with probability ``p_clean`` it is left untouched, so a sharp image stays sharp.

    Attributes:
        p_gauss: probability of Gaussian blur; ``gauss_sigma`` its σ range (px).
        p_aniso: probability of a rotated anisotropic Gaussian; ``aniso_sigma`` the range of each axis' σ.
        p_defocus: probability of disk blur; ``defocus_radius`` its radius range (px).
        p_motion: probability of linear motion blur of random angle; ``motion_length`` its length range (px).
        p_down: probability of downscale-then-upscale with torch's kernels; ``down_scale`` its factor range.
        p_resample: probability of downscale-then-upscale with Pillow's or OpenCV's kernels
            (area, bilinear, bicubic a = −0.5 / −0.75, Lanczos; a different kernel down and up);
            ``resample_scale`` its factor range.
        p_noise: probability of Gaussian sensor noise; ``noise_sigma`` read-noise σ range
            (0–1 units), ``noise_shot`` the shot-noise gain range.
        p_poisson: probability of Poisson–Gaussian noise with chroma noise; ``poisson_peak`` the
            photons-at-white range, ``poisson_read`` the read-noise σ range, ``chroma_sigma`` the
            colour-noise σ range.
        p_jpeg: probability of JPEG (Pillow or OpenCV, 4:2:0 or 4:4:4); ``jpeg_quality`` its quality range.
        p_video: probability of H.264/HEVC (PyAV) at a reduced size; ``video_crf`` its CRF range,
            ``video_scale`` the range of the size reduction.
        p_chain: probability of a whole webcam → encoder → display chain instead of the ops above.
        p_clean: probability of no degradation at all.
        min_ops: draw again until at least this many ops are applied (outside the clean share).
        quantize: round the result to 8-bit levels.
    """

    p_gauss: float = 0.55
    gauss_sigma: tuple[float, float] = (0.5, 2.5)
    p_aniso: float = 0.0
    aniso_sigma: tuple[float, float] = (0.3, 3.0)
    p_defocus: float = 0.2
    defocus_radius: tuple[float, float] = (1.0, 3.5)
    p_motion: float = 0.15
    motion_length: tuple[float, float] = (3.0, 9.0)
    p_down: float = 0.35
    down_scale: tuple[float, float] = (1.3, 3.0)
    p_resample: float = 0.0
    resample_scale: tuple[float, float] = (1.25, 4.0)
    p_noise: float = 0.4
    noise_sigma: tuple[float, float] = (0.002, 0.025)
    noise_shot: tuple[float, float] = (0.0, 0.01)
    p_poisson: float = 0.0
    poisson_peak: tuple[float, float] = (100.0, 2000.0)
    poisson_read: tuple[float, float] = (0.0, 0.01)
    chroma_sigma: tuple[float, float] = (0.0, 0.02)
    p_jpeg: float = 0.4
    jpeg_quality: tuple[int, int] = (30, 90)
    p_video: float = 0.0
    video_crf: tuple[int, int] = (20, 40)
    video_scale: tuple[float, float] = (1.0, 2.0)
    p_chain: float = 0.0
    p_clean: float = 0.0
    min_ops: int = 1
    quantize: bool = True

    def __post_init__(self) -> None:
        """Refuse settings the pipeline cannot draw from (one line naming the setting).

        Raises:
            ValueError: a probability outside 0–1, a range that is not two ordered
                non-negative numbers (JPEG quality: whole numbers 1–95; CRF: whole numbers
                0–51; scales ≥ 1), or ``min_ops`` not a whole number 0–6.
        """
        whole = {"jpeg_quality": (1, 95), "video_crf": (0, 51)}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("p_"):
                if not is_number(value) or not 0.0 <= value <= 1.0:
                    raise ValueError(f"degrade.{f.name} must be a probability from 0 to 1, got {value!r}")
            elif isinstance(f.default, tuple):
                lo_hi = whole.get(f.name)
                floor = 1.0 if f.name.endswith("_scale") else 0.0
                ok = (
                    isinstance(value, (tuple, list)) and len(value) == 2
                    and all(is_number(v) and (lo_hi is None or float(v).is_integer()) for v in value)
                    and floor <= value[0] <= value[1]
                    and (lo_hi is None or (lo_hi[0] <= value[0] and value[1] <= lo_hi[1]))
                )
                if not ok:
                    if lo_hi:
                        kind = f"two whole numbers from {lo_hi[0]} to {lo_hi[1]}"
                    else:
                        kind = "two numbers of at least 1" if floor else "two non-negative numbers"
                    raise ValueError(f"degrade.{f.name} must be {kind}, low then high, got {value!r}")
        if isinstance(self.min_ops, bool) or not isinstance(self.min_ops, int) or not 0 <= self.min_ops <= 6:
            raise ValueError(f"degrade.min_ops must be a whole number from 0 to 6, got {self.min_ops!r}")
        if self.p_chain + self.p_clean > 1.0:
            raise ValueError("degrade.p_chain + degrade.p_clean must be at most 1")


#: The mix the teachers of issue 14 on train on: users' resamplers, blurs, sensors and codecs.
USER_MIX = DegradeConfig(
    p_gauss=0.35, gauss_sigma=(0.3, 2.5), p_aniso=0.15, p_defocus=0.12, p_motion=0.15,
    motion_length=(3.0, 11.0), p_down=0.1, p_resample=0.3, p_noise=0.15, p_poisson=0.2,
    p_jpeg=0.3, jpeg_quality=(20, 95), p_video=0.12, p_chain=0.15, p_clean=0.06,
)

#: Named degradation mixes (``--degrade-mix``): the pipeline's original mix and the users' one.
DEGRADE_MIXES: dict[str, DegradeConfig] = {"classic": DegradeConfig(), "user": USER_MIX}


Op = tuple[Callable[[torch.Tensor], torch.Tensor], tuple[Any, ...]]


def _codec_op(cfg: DegradeConfig, rng: np.random.Generator, p_jpeg: float, p_video: float) -> Op | None:
    """A drawn codec as ``(function, record entry)``, or None."""
    u = rng.uniform
    if u() < p_video:
        crf = int(rng.integers(cfg.video_crf[0], cfg.video_crf[1] + 1))
        sc = u(*cfg.video_scale)
        codec = "libx264" if u() < 0.7 else "libx265"
        up = UPSAMPLERS[int(rng.integers(len(UPSAMPLERS)))]
        seed = int(rng.integers(2**31))
        return (lambda t: video_codec(t, crf, sc, codec, up, np.random.default_rng(seed))), ("video", crf, sc)
    if u() < p_jpeg:
        q = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
        sub = "4:2:0" if u() < 0.7 else "4:4:4"
        lib = "pil" if u() < 0.5 else "cv2"
        return (lambda t: jpeg(t, q, sub, lib)), ("jpeg", q)
    return None


def _resample_kernels(rng: np.random.Generator) -> tuple[str, str]:
    down = list(_resamplers())[int(rng.integers(len(_resamplers())))]
    up = UPSAMPLERS[int(rng.integers(len(UPSAMPLERS)))]
    return down, up


def _chain(x: torch.Tensor, cfg: DegradeConfig, rng: np.random.Generator, record: DegradationRecord) -> torch.Tensor:
    """A webcam → encoder → display chain: optics, shrink, sensor noise, codec, enlarge."""
    u = rng.uniform
    h, w = x.shape[-2:]
    if u() < 0.7:
        s = u(0.3, 1.5)
        x = gaussian_blur(x, s)
        record.add("gauss", s)
    if u() < 0.25:
        ln = u(2.0, 6.0)
        x = motion_blur(x, ln, u(0.0, 180.0))
        record.add("motion", ln)
    sc = u(*cfg.resample_scale)
    down, up = _resample_kernels(rng)
    small = resize_image(x, (max(8, round(h / sc)), max(8, round(w / sc))), down)
    record.add("resize", sc)
    peak, read = u(*cfg.poisson_peak), u(*cfg.poisson_read)
    small = poisson_gaussian_noise(small, peak, read, u(*cfg.chroma_sigma), rng)
    # The noise is added at the reduced size: enlarged back, its σ per output pixel is about 1/sc of it.
    record.add("poisson", peak * sc * sc, read / sc)
    codec = _codec_op(cfg, rng, p_jpeg=0.6, p_video=0.4)
    if codec is not None and min(small.shape[-2:]) >= 16:
        small = codec[0](small)
        _record_codec(record, codec[1])
    return resize_image(small, (h, w), up)


def _record_codec(record: DegradationRecord, entry: tuple[Any, ...]) -> None:
    record.add(entry[0], entry[1])
    if entry[0] == "video":
        record.add("resize", entry[2])


def random_degrade(
    x: torch.Tensor, cfg: DegradeConfig, rng: np.random.Generator, record: DegradationRecord | None = None
) -> torch.Tensor:
    """Apply the random pipeline to one image.

    Args:
        x: ``C×H×W`` float32, 0–1 (the sharp image).
        cfg: probabilities and ranges.
        rng: the only source of randomness.
        record: receives the ops applied and their strengths (``conditions``); recording
            draws nothing, so the image is the same with or without it.

    Returns:
        The degraded ``C×H×W`` float32 image, 0–1.
    """
    u = rng.uniform
    # The clean share and chains are drawn first, and only when asked for, so a config
    # without them draws exactly the numbers it always drew.
    if cfg.p_clean or cfg.p_chain:
        r = u()
        if r < cfg.p_clean:
            return quantize(x) if cfg.quantize else x.clamp(0.0, 1.0)
        if r < cfg.p_clean + cfg.p_chain:
            x = _chain(x, cfg, rng, record if record is not None else DegradationRecord())
            return quantize(x) if cfg.quantize else x.clamp(0.0, 1.0)
    for _ in range(100):
        ops: list[Op] = []
        if u() < cfg.p_gauss:
            s = u(*cfg.gauss_sigma)
            ops.append(((lambda t, s=s: gaussian_blur(t, s)), ("gauss", s)))
        if cfg.p_aniso and u() < cfg.p_aniso:
            sx, sy, ang = u(*cfg.aniso_sigma), u(*cfg.aniso_sigma), u(0.0, 180.0)
            ops.append(((lambda t, sx=sx, sy=sy, ang=ang: anisotropic_blur(t, sx, sy, ang)), ("aniso", sx, sy)))
        if u() < cfg.p_defocus:
            r = u(*cfg.defocus_radius)
            ops.append(((lambda t, r=r: defocus_blur(t, r)), ("defocus", r)))
        if u() < cfg.p_motion:
            ln, ang = u(*cfg.motion_length), u(0.0, 180.0)
            ops.append(((lambda t, ln=ln, ang=ang: motion_blur(t, ln, ang)), ("motion", ln)))
        if u() < cfg.p_down:
            sc = u(*cfg.down_scale)
            mode = "bicubic" if u() < 0.6 else "bilinear"
            ops.append(((lambda t, sc=sc, mode=mode: down_up(t, sc, mode)), ("resize", sc)))
        if cfg.p_resample and u() < cfg.p_resample:
            sc = u(*cfg.resample_scale)
            down, up = _resample_kernels(rng)
            ops.append(((lambda t, sc=sc, down=down, up=up: resample_down_up(t, sc, down, up)), ("resize", sc)))
        if u() < cfg.p_noise:
            ns, sh = u(*cfg.noise_sigma), u(*cfg.noise_shot)
            ops.append(((lambda t, ns=ns, sh=sh: add_noise(t, ns, sh, rng)), ("noise", ns, sh)))
        if cfg.p_poisson and u() < cfg.p_poisson:
            pk, rd, ch = u(*cfg.poisson_peak), u(*cfg.poisson_read), u(*cfg.chroma_sigma)
            ops.append(((lambda t, pk=pk, rd=rd, ch=ch: poisson_gaussian_noise(t, pk, rd, ch, rng)), ("poisson", pk, rd)))
        codec: Op | None
        if cfg.p_video:
            codec = _codec_op(cfg, rng, cfg.p_jpeg, cfg.p_video)
        else:  # the original draw: JPEG from Pillow at 4:2:0
            q = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1)) if u() < cfg.p_jpeg else 0
            codec = ((lambda t, q=q: jpeg(t, q)), ("jpeg", q)) if q else None
        if len(ops) + (codec is not None) >= cfg.min_ops:
            break
    order = rng.permutation(len(ops))
    for i in order:
        x = ops[i][0](x)
        if record is not None:
            record.add(*ops[i][1])
    if codec is not None:
        x = codec[0](x)
        if record is not None:
            _record_codec(record, codec[1])
    return quantize(x) if cfg.quantize else x.clamp(0.0, 1.0)


def seed_everything(seed: int) -> None:
    """Seed python, numpy's legacy global state and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
