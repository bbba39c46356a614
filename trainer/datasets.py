"""Training and validation data in three photo layouts (and the ``bank`` layout of ``label_bank``).

* ``folder``: a folder of sharp images (searched recursively), degraded on the fly
  by ``degrade.random_degrade``;
* ``paired``: ``<root>/NNN/blurry.png`` + ``<root>/NNN/sharp.png``;
* ``gopro``: ``<root>/<scene>/blur/*.png`` (or ``blur_gamma/``) next to
  ``<root>/<scene>/sharp/*.png`` with the same file names;
* ``bank``: a teacher label bank (``label_bank``): training batches come from
  it, validation is a ``folder`` of photos.

Datasets are split by file, never by crop: pass the train and validation
folders separately. All images are held in memory as ``H×W×3`` uint8 arrays;
batches come out as ``N×3×h×w`` float32 tensors in 0–1. Crops are drawn so that
textured regions are picked more often than flat ones (interior photos have
large white walls that teach nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .conditions import DegradationRecord
from .degrade import DegradeConfig, random_degrade
from .suite import SCORED, suite_degrade
from .photos import IMAGE_SUFFIXES, load_rgb

LAYOUTS = ("folder", "paired", "gopro", "bank")


class DatasetError(ValueError):
    """A dataset folder is missing, empty, unreadable or inconsistent."""


def _to_tensor(arr: np.ndarray) -> torch.Tensor:
    """``H×W×3`` uint8 → ``3×H×W`` float32 in 0–1."""
    return torch.from_numpy(np.array(arr, dtype=np.uint8, order="C", copy=True)).permute(2, 0, 1).float().div_(255.0)


def _read(path: Path) -> np.ndarray:
    try:
        return load_rgb(path)
    except ValueError as e:
        raise DatasetError(str(e)) from e


def _images_in(root: Path) -> list[Path]:
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder does not exist")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DatasetError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    return files


def find_pairs(root: Path, layout: str, blur_gamma: bool = False) -> list[tuple[Path, Path]]:
    """List (degraded, sharp) file pairs of a paired or GoPro dataset.

    Raises:
        DatasetError: missing folder, no pairs, or a file without its partner.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder does not exist")
    pairs: list[tuple[Path, Path]] = []
    if layout == "paired":
        for d in sorted(p for p in root.iterdir() if p.is_dir()):
            blurry, sharp = d / "blurry.png", d / "sharp.png"
            if blurry.exists() != sharp.exists():
                missing = sharp if blurry.exists() else blurry
                raise DatasetError(f"{d}: mismatched pair, {missing.name} is missing")
            if blurry.exists():
                pairs.append((blurry, sharp))
        if not pairs:
            raise DatasetError(f"{root}: no NNN/blurry.png + NNN/sharp.png pairs found")
    elif layout == "gopro":
        blur_name = "blur_gamma" if blur_gamma else "blur"
        for scene in sorted(p for p in root.iterdir() if p.is_dir()):
            bdir, sdir = scene / blur_name, scene / "sharp"
            if not bdir.is_dir() and not sdir.is_dir():
                continue
            if not bdir.is_dir() or not sdir.is_dir():
                raise DatasetError(f"{scene}: needs both {blur_name}/ and sharp/")
            bnames = {p.name for p in bdir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
            snames = {p.name for p in sdir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
            if bnames != snames:
                odd = sorted(bnames ^ snames)[:3]
                raise DatasetError(f"{scene}: mismatched pairs between {blur_name}/ and sharp/: {odd}")
            pairs += [(bdir / n, sdir / n) for n in sorted(bnames)]
        if not pairs:
            raise DatasetError(f"{root}: no <scene>/{blur_name}/ + <scene>/sharp/ pairs found")
    else:
        raise DatasetError(f"unknown paired layout {layout!r}; choose from {LAYOUTS}")
    return pairs


def sharpness_score(arr: np.ndarray) -> float:
    """How sharp an ``H×W×3`` uint8 photo's detail is: mean |Laplacian| over mean |gradient| of its luma.

    Scale-free (brightness and contrast cancel): a soft or upscaled photo has gradients
    but little curvature, so it scores low; noise scores high, so lossy sources are
    shrunk first (``photo_sources``).
    """
    y = arr[::2, ::2].astype(np.float32).mean(axis=2) if max(arr.shape[:2]) > 1024 else arr.astype(np.float32).mean(axis=2)
    lap = np.abs(4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:]).mean()
    grad = np.abs(np.diff(y, axis=0)).mean() + np.abs(np.diff(y, axis=1)).mean()
    return float(lap / (grad + 1e-6))


def texture_score(arr: np.ndarray) -> float:
    """Mean absolute luma gradient of an ``h×w×3`` uint8 crop, in 0–1 units."""
    y = arr.astype(np.float32).mean(axis=2) / 255.0
    return float(np.abs(np.diff(y, axis=0)).mean() + np.abs(np.diff(y, axis=1)).mean())


@dataclass(frozen=True)
class DataConfig:
    """Where the training data comes from and how crops are drawn.

    Attributes:
        train: training folder.
        val: validation folder (sharp images; degraded with the eval suite), or
            a paired/GoPro folder of the same layout as ``train``.
        layout: ``folder``, ``paired``, ``gopro`` or ``bank`` (``train`` is then a
            label bank folder, read by ``label_bank.LabelBank``, not by this sampler).
        blur_gamma: GoPro only: read ``blur_gamma/`` instead of ``blur/``.
        crop: training crop side (pixels).
        texture_candidates: crops drawn per sample; one is kept with probability
            proportional to ``texture_score + texture_floor`` (1 disables the bias).
        texture_floor: keeps flat crops possible.
        margin: extra context degraded around each crop and then cut off, so
            blur near crop borders matches blur inside a real frame.
        val_crop: side of the centre crop of every validation image (0 = whole image).
        val_degradations: names from ``suite.EVAL_SUITE`` used for validation (default: every
            scored case, ``clean`` left out).
        unpaired: optional folder of extra sharp-or-not images that only the
            teacher labels (KD terms); degraded like ``train``.
        sharpness_weight: photos are drawn ∝ area × (sharpness ÷ median sharpness) to this
            power (``sharpness_score``; 0 = by area alone, as before), so the sharpest sources
            teach what sharp looks like more often than soft ones.
        bank_noisy_weight: ``bank`` layout: how often a crop that went through noise or a codec
            is drawn, relative to one that did not (1 = as the bank was drawn). The users' mix
            puts noise or a codec in about two crops of three; 0.5 makes it one of two. Needs a
            bank with conditions.
    """

    train: str = "data/photos/train"
    val: str = "data/photos/val"
    layout: str = "folder"
    blur_gamma: bool = False
    crop: int = 128
    texture_candidates: int = 4
    texture_floor: float = 0.01
    margin: int = 16
    val_crop: int = 256
    val_degradations: tuple[str, ...] = SCORED
    unpaired: str = ""
    sharpness_weight: float = 0.0
    bank_noisy_weight: float = 1.0


class TrainSampler:
    """Draws degraded/sharp training batches from one of the three layouts.

    Args:
        cfg: data settings.
        degrade_cfg: the random degradation pipeline (used by ``folder``).
        root: override of ``cfg.train`` (used for the unpaired KD folder).
    """

    def __init__(self, cfg: DataConfig, degrade_cfg: DegradeConfig, root: str | None = None) -> None:
        self.cfg = cfg
        self.degrade_cfg = degrade_cfg
        root_path = Path(root if root is not None else cfg.train)
        self.layout = "folder" if root is not None else cfg.layout
        if self.layout == "folder":
            self.sharp = [_read(p) for p in _images_in(root_path)]
            self.blurry: list[np.ndarray] | None = None
        else:
            pairs = find_pairs(root_path, self.layout, cfg.blur_gamma)
            self.blurry, self.sharp = [], []
            for b, s in pairs:
                ba, sa = _read(b), _read(s)
                if ba.shape != sa.shape:
                    raise DatasetError(f"{b} and {s}: mismatched sizes {ba.shape[:2]} vs {sa.shape[:2]}")
                self.blurry.append(ba)
                self.sharp.append(sa)
        need = cfg.crop + (2 * cfg.margin if self.layout == "folder" else 0)
        small = [i for i, a in enumerate(self.sharp) if min(a.shape[:2]) < need]
        if len(small) == len(self.sharp):
            raise DatasetError(f"{root_path}: every image is smaller than the {need}px crop")
        self.indices = [i for i in range(len(self.sharp)) if i not in small]
        # Bigger images are drawn more often, so every pixel has a similar chance.
        area = np.array([self.sharp[i].shape[0] * self.sharp[i].shape[1] for i in self.indices], float)
        if cfg.sharpness_weight:
            sharp = np.array([sharpness_score(self.sharp[i]) for i in self.indices])
            area *= np.clip(sharp / np.median(sharp), 0.1, 10.0) ** cfg.sharpness_weight
        self.weights = area / area.sum()

    def _crop(self, rng: np.random.Generator, side: int) -> tuple[int, int, int]:
        best: list[tuple[int, int, int]] = []
        scores: list[float] = []
        for _ in range(max(1, self.cfg.texture_candidates)):
            i = self.indices[int(rng.choice(len(self.indices), p=self.weights))]
            h, w = self.sharp[i].shape[:2]
            y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
            best.append((i, y, x))
            if self.cfg.texture_candidates > 1:
                scores.append(texture_score(self.sharp[i][y : y + side : 2, x : x + side : 2]))
        if len(best) == 1:
            return best[0]
        p = np.asarray(scores) + self.cfg.texture_floor
        return best[int(rng.choice(len(best), p=p / p.sum()))]

    def sample(
        self, batch: int, rng: np.random.Generator, records: list[DegradationRecord] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw a batch.

        Args:
            batch: number of crops.
            rng: the only source of randomness.
            records: receives one ``DegradationRecord`` per crop (``folder`` layout; a paired
                layout's degradation is unknown and records nothing).

        Returns:
            ``(degraded, sharp)``, both ``batch×3×crop×crop`` float32 in 0–1.
        """
        c, m = self.cfg.crop, self.cfg.margin if self.layout == "folder" else 0
        xs, ys = [], []
        for _ in range(batch):
            i, y, x = self._crop(rng, c + 2 * m)
            sharp = self.sharp[i][y : y + c + 2 * m, x : x + c + 2 * m]
            blurry = None if self.blurry is None else self.blurry[i][y : y + c, x : x + c]
            k, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
            sharp = np.rot90(sharp[:, ::-1] if flip else sharp, k)
            s = _to_tensor(sharp)
            if blurry is None:
                record = DegradationRecord()
                d = random_degrade(s, self.degrade_cfg, rng, record)[:, m : m + c, m : m + c]
                if records is not None:
                    records.append(record)
                s = s[:, m : m + c, m : m + c]
            else:
                d = _to_tensor(np.rot90(blurry[:, ::-1] if flip else blurry, k))
            xs.append(d)
            ys.append(s)
        return torch.stack(xs), torch.stack(ys)


def load_val_set(cfg: DataConfig, seed: int = 0) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Build the fixed validation set.

    For the ``folder`` layout, each validation image's centre crop is degraded
    with each named degradation in ``cfg.val_degradations`` (seeded); for the
    paired layouts, the given pairs are used (degradation name ``paired``).

    Returns:
        A list of ``(degradation name, degraded, sharp)`` with ``1×3×h×w`` float32 tensors.
    """
    root = Path(cfg.val)
    out: list[tuple[str, torch.Tensor, torch.Tensor]] = []
    if cfg.layout in ("folder", "bank"):
        for n, path in enumerate(_images_in(root)):
            arr = _read(path)
            h, w = arr.shape[:2]
            side = cfg.val_crop
            m = cfg.margin
            if side and min(h, w) >= side + 2 * m:
                y, x = (h - side) // 2 - m, (w - side) // 2 - m
                arr = arr[y : y + side + 2 * m, x : x + side + 2 * m]
            else:
                m = 0
            s = _to_tensor(arr)
            for j, name in enumerate(cfg.val_degradations):
                d = suite_degrade(s, name, seed=seed * 100003 + n * 101 + j)
                hh, ww = s.shape[-2:]
                out.append((name, d[None, :, m : hh - m, m : ww - m], s[None, :, m : hh - m, m : ww - m]))
    else:
        for b, s in find_pairs(root, cfg.layout, cfg.blur_gamma):
            ba, sa = _read(b), _read(s)
            if ba.shape != sa.shape:
                raise DatasetError(f"{b} and {s}: mismatched sizes")
            if cfg.val_crop:
                h, w = ba.shape[:2]
                side = min(cfg.val_crop, h, w)
                y, x = (h - side) // 2, (w - side) // 2
                ba, sa = ba[y : y + side, x : x + side], sa[y : y + side, x : x + side]
            out.append(("paired", _to_tensor(ba)[None], _to_tensor(sa)[None]))
    return out
