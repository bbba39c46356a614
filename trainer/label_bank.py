"""Teacher label banks: degraded crops, their sharp originals and the teacher's outputs, computed once.

Output distillation needs the teacher's answer for every training crop. Running
a 400-GFLOP/1080p teacher live costs far more than training a 3-GFLOP student,
so on a CPU the teacher, not the student, would set the pace. A bank draws
``samples`` crops exactly as teacher training does (the teacher's own data and
degradation settings, texture-weighted crops, ``degrade.random_degrade``), runs
the frozen teacher over them once and stores three tensors per crop:

* ``degraded``: ``N×3×c×c`` uint8 (the degraded crop, quantised to 8 bit as
  real inputs are; the teacher labels exactly these pixels);
* ``sharp``: ``N×3×c×c`` uint8 ground truth;
* ``teacher``: ``N×3×c×c`` float16 teacher output, clamped to 0–1;
* ``conditions``: ``N×4`` float32, the degradation each crop went through
  (``conditions.CONDITION_NAMES``; banks built before issue 15 lack it).

A bank is a folder of ``part-NNNN.safetensors`` files (``part_size`` crops each,
each part seeded by ``seed`` and its index, written atomically) and
``bank.json`` (written last: the teacher checkpoint, its weights' sha256, the
settings and the part list). Building skips parts that already exist, so a killed
build resumes where it stopped and gives the same bank.

Students train on a bank with ``--layout bank --train BANK``: batches are random
sub-crops of random bank crops under random flips and rotations, and the output
KD term reads the stored teacher outputs instead of running the teacher. The
no-KD control trains on the same bank and ignores the ``teacher`` tensor, so the
ablation differs only in the teacher term.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from kdsharp_train import atomic
from safetensors.torch import load_file, save_file

from .conditions import CONDITION_NAMES, DegradationRecord
from .config import TrainConfig, config_from_dict
from .degrade import DegradeConfig
from .datasets import DatasetError, TrainSampler
from .models import load_model

BANK_FORMAT = "kdsharp-label-bank/1"


@dataclass(frozen=True)
class BankConfig:
    """Settings of ``build_bank``.

    Attributes:
        teacher: teacher checkpoint JSON (``best.json`` or an exported ``teacher.json``).
        out: bank folder.
        train: folder of sharp training photos ("" = the teacher's own ``data.train``).
        samples: number of crops (rounded up to whole parts).
        crop: crop side in pixels (students may train on smaller sub-crops).
        seed: seeds crop positions and degradations (part ``i`` uses ``seed * 1000 + i``).
        part_size: crops per part file.
        batch: crops per teacher forward pass.
        threads: torch threads (0 = torch's default).
        degrade: changes to the teacher's degradation settings for this bank's crops,
            ``DegradeConfig`` field → value (empty = draw exactly as the teacher was trained).
    """

    teacher: str
    out: str
    train: str = ""
    samples: int = 8000
    crop: int = 128
    seed: int = 0
    part_size: int = 500
    batch: int = 10
    threads: int = 0
    degrade: dict[str, Any] = field(default_factory=dict)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _quantize_u8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255.0).round().to(torch.uint8)


@torch.no_grad()
def _build_part(teacher: torch.nn.Module, sampler: TrainSampler, n: int, batch: int, seed: int) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(seed)
    degraded, sharp, soft = [], [], []
    records: list[DegradationRecord] = []
    for start in range(0, n, batch):
        x, y = sampler.sample(min(batch, n - start), rng, records)
        xq = _quantize_u8(x)
        degraded.append(xq)
        sharp.append(_quantize_u8(y))
        soft.append(teacher(xq.float() / 255.0).clamp(0, 1).to(torch.float16))
    conditions = torch.tensor([r.vector() for r in records], dtype=torch.float32)
    return {"degraded": torch.cat(degraded), "sharp": torch.cat(sharp), "teacher": torch.cat(soft), "conditions": conditions}


def changed_degradations(base: DegradeConfig, changes: dict[str, Any]) -> DegradeConfig:
    """``base`` with some fields replaced (JSON lists become the tuples ranges are).

    Raises:
        ValueError: a name that is not a ``DegradeConfig`` field, or a value it refuses.
    """
    names = [f.name for f in dataclasses.fields(DegradeConfig)]
    for name in changes:
        if name not in names:
            raise ValueError(f"no degradation setting {name!r}; choose from {', '.join(names)}")
    return dataclasses.replace(base, **{k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()})


def build_bank(cfg: BankConfig, progress: bool = True) -> Path:
    """Build (or finish building) a label bank; returns the path of its ``bank.json``.

    Raises:
        CheckpointError: the teacher checkpoint cannot be read.
        DatasetError: no usable training photos, or ``out`` holds a bank of other settings.
        ValueError: non-positive ``samples``, ``crop``, ``part_size`` or ``batch``, or a bad
            degradation change.
    """
    for name in ("samples", "crop", "part_size", "batch"):
        if getattr(cfg, name) <= 0:
            raise ValueError(f"bank {name} must be positive, got {getattr(cfg, name)}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    teacher, meta = load_model(cfg.teacher)  # checks the weights against the JSON's sha256
    teacher_path = Path(cfg.teacher)
    stored = config_from_dict(TrainConfig, meta["config"]) if "config" in meta else TrainConfig()
    data = dataclasses.replace(stored.data, layout="folder", crop=cfg.crop, train=cfg.train or stored.data.train)
    degrade = changed_degradations(stored.degrade, cfg.degrade)
    settings: dict[str, Any] = {
        "teacher": str(teacher_path),
        "teacher_sha256": meta["tensors_sha256"],
        "teacher_arch": meta.get("arch"),
        "teacher_step": meta.get("step"),
        "train": data.train,
        "crop": cfg.crop,
        "seed": cfg.seed,
        "part_size": cfg.part_size,
        "data": dataclasses.asdict(data),
        "degrade": dataclasses.asdict(degrade),
    }
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    settings_file = out / "settings.json"
    encoded = json.loads(json.dumps(settings))
    if settings_file.exists() and json.loads(settings_file.read_text()) != encoded:
        raise DatasetError(f"{out}: holds a bank built with other settings; choose another --out")
    atomic.write_bytes(settings_file, json.dumps(encoded, indent=1, sort_keys=True).encode())

    sampler = TrainSampler(data, degrade)
    n_parts = -(-cfg.samples // cfg.part_size)
    parts = []
    t0 = time.monotonic()
    for i in range(n_parts):
        path = out / f"part-{i:04d}.safetensors"
        if not path.exists():
            part = _build_part(teacher, sampler, cfg.part_size, cfg.batch, cfg.seed * 1000 + i)
            with atomic.replacing(path) as tmp:
                save_file(part, str(tmp))
            if progress:
                rate = (time.monotonic() - t0) / 60.0
                print(f"bank part {i + 1}/{n_parts} written ({rate:.1f} min so far)", flush=True)
        parts.append({"file": path.name, "sha256": _file_sha256(path)})
    manifest = dict(encoded, format=BANK_FORMAT, samples=n_parts * cfg.part_size, parts=parts)
    bank_json = out / "bank.json"
    atomic.write_bytes(bank_json, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return bank_json


@dataclass
class LabelBank:
    """A loaded bank: ``degraded``, ``sharp`` (uint8) and ``teacher`` (float16), all ``N×3×c×c``,
    and ``conditions`` (``N×4``; None for a bank built before they were kept)."""

    degraded: torch.Tensor
    sharp: torch.Tensor
    teacher: torch.Tensor
    manifest: dict[str, Any]
    conditions: torch.Tensor | None = None

    @classmethod
    def load(cls, folder: str | Path) -> LabelBank:
        """Load every part listed in ``<folder>/bank.json``, checking each part's sha256.

        Raises:
            DatasetError: no finished bank there, or a part that is missing or altered.
        """
        folder = Path(folder)
        bank_json = folder / "bank.json"
        if not bank_json.exists():
            raise DatasetError(f"{folder}: not a finished label bank (no bank.json); build it with kdsharp-train bank")
        manifest = json.loads(bank_json.read_text())
        if manifest.get("format") != BANK_FORMAT:
            raise DatasetError(f"{bank_json}: not a {BANK_FORMAT} manifest")
        chunks: dict[str, list[torch.Tensor]] = {"degraded": [], "sharp": [], "teacher": [], "conditions": []}
        for part in manifest["parts"]:
            path = folder / part["file"]
            if not path.exists() or _file_sha256(path) != part["sha256"]:
                raise DatasetError(f"{path}: missing or altered bank part (sha256 mismatch)")
            tensors = load_file(str(path))
            for k in chunks:
                if k in tensors:
                    chunks[k].append(tensors[k])
        conditions = chunks.pop("conditions")
        kept = torch.cat(conditions) if len(conditions) == len(manifest["parts"]) else None
        return cls(**{k: torch.cat(v) for k, v in chunks.items()}, manifest=manifest, conditions=kept)

    def __len__(self) -> int:
        return int(self.degraded.shape[0])

    def noisy_weights(self, weight: float) -> np.ndarray:
        """Drawing probabilities giving crops with noise or a codec ``weight`` times the others' chance.

        Raises:
            DatasetError: the bank has no conditions, or ``weight`` is not a positive number.
        """
        if not (isinstance(weight, (int, float)) and weight > 0 and np.isfinite(weight)):
            raise DatasetError(f"data.bank_noisy_weight must be a positive number, not {weight!r}")
        if self.conditions is None:
            raise DatasetError("data.bank_noisy_weight needs a bank that keeps each crop's conditions (built since issue 15)")
        noise, codec = CONDITION_NAMES.index("noise"), CONDITION_NAMES.index("compression")
        noisy = ((self.conditions[:, noise] > 0) | (self.conditions[:, codec] > 0)).numpy()
        w = np.where(noisy, float(weight), 1.0)
        return w / w.sum()

    def sample(
        self, batch: int, crop: int, rng: np.random.Generator, p: np.ndarray | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Random sub-crops of random bank crops under one random flip and rotation each.

        ``p``: each bank crop's drawing probability (``noisy_weights``); None draws them alike.

        Returns:
            ``(degraded, sharp, teacher, conditions)``: ``batch×3×crop×crop`` float32 in 0–1, and
            the crops' ``batch×4`` conditions (None when the bank has none).

        Raises:
            DatasetError: ``crop`` is larger than the bank's crops.
        """
        side = int(self.degraded.shape[-1])
        if crop > side:
            raise DatasetError(f"training crop {crop} is larger than the bank's {side}px crops")
        idx = rng.integers(0, len(self), size=batch) if p is None else rng.choice(len(self), size=batch, p=p)
        xs, ys, ts = [], [], []
        for i in idx:
            y0, x0 = (int(v) for v in rng.integers(0, side - crop + 1, size=2))
            k, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
            views = []
            for t in (self.degraded[i], self.sharp[i], self.teacher[i]):
                v = t[:, y0 : y0 + crop, x0 : x0 + crop]
                if flip:
                    v = v.flip(-1)
                views.append(torch.rot90(v, k, dims=(-2, -1)).float())
            xs.append(views[0] / 255.0)
            ys.append(views[1] / 255.0)
            ts.append(views[2])
        conditions = None if self.conditions is None else self.conditions[torch.from_numpy(idx)]
        return torch.stack(xs), torch.stack(ys), torch.stack(ts), conditions
