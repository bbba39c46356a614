"""The evaluation suite's own resampling and JPEG, written apart from the training pipeline.

Training degrades with Pillow, OpenCV and torch; the suite must not share that code,
or a model could learn one library's quirks and the suite would not notice. So the
suite resizes and compresses with the numpy implementations here, written from the
definitions:

* ``resample``: separable resampling with the box (area), triangle (bilinear), Keys
  cubic (a = −0.5 or −0.75) and Lanczos-3 kernels, pixel centres at ``i + 0.5``,
  edges replicated. When shrinking, the kernel is widened by the factor (``antialias``,
  as Pillow and OpenCV's area filter do) or not (as OpenCV's linear and cubic do).
* ``jpeg``: baseline JPEG's lossy part, exactly: JFIF YCbCr, 4:2:0 or 4:4:4 chroma,
  8×8 DCT, the Annex K tables scaled as the IJG library scales them for a quality,
  rounding to integers, inverse DCT, libjpeg's triangle ("fancy") chroma upsampling.
  Entropy coding is lossless, so it is left out.

All functions take and return ``H×W×C`` float64 arrays with values in 0–255.
"""

from __future__ import annotations

import math

import numpy as np

KERNELS = ("box", "triangle", "cubic", "cubic075", "lanczos3")


def _kernel(name: str, t: np.ndarray) -> np.ndarray:
    a = np.abs(t)
    if name == "box":
        return ((a < 0.5) | np.isclose(t, -0.5)).astype(np.float64)
    if name == "triangle":
        return np.clip(1.0 - a, 0.0, None)
    if name in ("cubic", "cubic075"):
        c = -0.5 if name == "cubic" else -0.75
        return np.where(
            a <= 1, (c + 2) * a**3 - (c + 3) * a**2 + 1, np.where(a < 2, c * a**3 - 5 * c * a**2 + 8 * c * a - 4 * c, 0.0)
        )
    if name == "lanczos3":
        return np.where(a < 3, np.sinc(t) * np.sinc(t / 3.0), 0.0)
    raise ValueError(f"unknown kernel {name!r}; choose from {', '.join(KERNELS)}")


_SUPPORT = {"box": 0.5, "triangle": 1.0, "cubic": 2.0, "cubic075": 2.0, "lanczos3": 3.0}


def weights(n_in: int, n_out: int, kernel: str, antialias: bool = True) -> np.ndarray:
    """The ``n_out×n_in`` resampling matrix of one axis (rows sum to 1).

    Raises:
        ValueError: an unknown kernel name.
    """
    if kernel not in _SUPPORT:
        raise ValueError(f"unknown kernel {kernel!r}; choose from {', '.join(KERNELS)}")
    scale = n_in / n_out
    stretch = scale if antialias and scale > 1 else 1.0
    support = _SUPPORT[kernel] * stretch
    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = (i + 0.5) * scale - 0.5
        lo, hi = int(math.floor(centre - support)), int(math.ceil(centre + support))
        j = np.arange(lo, hi + 1)
        k = _kernel(kernel, (j - centre) / stretch)
        if k.sum() == 0:  # a box narrower than the pixel pitch: take the nearest pixel
            k = (j == round(centre)).astype(np.float64)
        np.add.at(w[i], np.clip(j, 0, n_in - 1), k / k.sum())
    return w


def resample(img: np.ndarray, height: int, width: int, kernel: str, antialias: bool = True) -> np.ndarray:
    """Resize ``H×W×C`` ``img`` to ``height×width`` with a separable ``kernel``."""
    wy = weights(img.shape[0], height, kernel, antialias)
    wx = weights(img.shape[1], width, kernel, antialias)
    return np.einsum("ij,jkc,lk->ilc", wy, img, wx, optimize=True)


# ITU-T T.81 Annex K, tables K.1 and K.2.
LUMA_Q = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64).reshape(8, 8)
CHROMA_Q = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, *([99] * 32),
], dtype=np.float64).reshape(8, 8)


def quant_table(base: np.ndarray, quality: int) -> np.ndarray:
    """The IJG scaling of an Annex K table for ``quality`` 1–100 (baseline: entries 1–255)."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip(np.floor((base * scale + 50) / 100), 1, 255)


def _dct_matrix() -> np.ndarray:
    n = np.arange(8)
    c = np.sqrt(2 / 8) * np.cos((2 * n[None, :] + 1) * n[:, None] * np.pi / 16)
    c[0] /= np.sqrt(2)
    return c


_C = _dct_matrix()


def _code_plane(plane: np.ndarray, table: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    ph, pw = -h % 8, -w % 8
    p = np.pad(plane, ((0, ph), (0, pw)), mode="edge") - 128.0
    blocks = p.reshape(p.shape[0] // 8, 8, p.shape[1] // 8, 8).transpose(0, 2, 1, 3)
    coef = _C @ blocks @ _C.T
    coef = np.round(coef / table) * table
    rec = _C.T @ coef @ _C
    rec = rec.transpose(0, 2, 1, 3).reshape(p.shape) + 128.0
    return np.clip(np.round(rec), 0, 255)[:h, :w]


def _fancy_up(c: np.ndarray, axis: int, n: int) -> np.ndarray:
    """libjpeg's triangle upsampling by 2 along ``axis`` (3/4 nearest + 1/4 next), cut to ``n``."""
    prev = np.concatenate([np.take(c, [0], axis), np.take(c, range(c.shape[axis] - 1), axis)], axis)
    nxt = np.concatenate([np.take(c, range(1, c.shape[axis]), axis), np.take(c, [-1], axis)], axis)
    even, odd = 0.75 * c + 0.25 * prev, 0.75 * c + 0.25 * nxt
    out = np.stack([even, odd], axis=axis + 1)
    shape = list(c.shape)
    shape[axis] *= 2
    return np.take(out.reshape(shape), range(n), axis)


def jpeg(img: np.ndarray, quality: int, subsampling: str = "4:2:0") -> np.ndarray:
    """Baseline JPEG's loss on ``H×W×C`` 0–255 ``img`` (C = 1 or 3), rounded to 8-bit levels."""
    rgb = np.clip(np.round(img), 0, 255)
    if rgb.shape[2] == 1:
        return _code_plane(rgb[..., 0], quant_table(LUMA_Q, quality))[..., None]
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128.0
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128.0
    h, w = y.shape
    y = _code_plane(np.round(y), quant_table(LUMA_Q, quality))
    cq = quant_table(CHROMA_Q, quality)
    planes = []
    for c in (cb, cr):
        c = np.round(c)
        if subsampling == "4:2:0":
            c = np.pad(c, ((0, h % 2), (0, w % 2)), mode="edge")
            c = c.reshape(c.shape[0] // 2, 2, c.shape[1] // 2, 2).mean(axis=(1, 3))
            c = _code_plane(np.round(c), cq)
            c = _fancy_up(_fancy_up(c, 0, h), 1, w)
        elif subsampling == "4:4:4":
            c = _code_plane(c, cq)
        else:
            raise ValueError(f"JPEG subsampling must be 4:2:0 or 4:4:4, got {subsampling!r}")
        planes.append(c - 128.0)
    cb, cr = planes
    out = np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=2)
    return np.clip(np.round(out), 0, 255)
