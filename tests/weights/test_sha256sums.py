"""weights/SHA256SUMS lists every shipped file, and every listed digest is right."""

from __future__ import annotations

import hashlib

from kdsharp import shipped

# Files in weights/ that are code or text about the weights, not weights.
NOT_WEIGHTS = {"__init__.py", shipped.SUMS_FILE, "MODEL_CARD.md"}


def shipped_files() -> set[str]:
    root = shipped.weights_dir()
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name not in NOT_WEIGHTS and "__pycache__" not in p.parts and not p.name.startswith(".")
        and p.parent.name != "card"
    }


def test_every_shipped_file_is_listed() -> None:
    listed = set(shipped.read_sums(shipped.weights_dir()))
    missing = shipped_files() - listed
    assert not missing, f"add these to weights/SHA256SUMS: {sorted(missing)}"


def test_every_listed_digest_matches() -> None:
    root = shipped.weights_dir()
    for rel, digest in shipped.read_sums(root).items():
        path = root / rel
        assert path.is_file(), f"weights/SHA256SUMS lists {rel}, which does not exist"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"weights/{rel} does not match SHA256SUMS"
