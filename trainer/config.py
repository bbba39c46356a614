"""Frozen dataclass configs of a training run, and their JSON round trip.

A ``TrainConfig`` is everything a run needs; it is stored inside every
checkpoint so ``--resume`` and export rebuild the run without the command line.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from .datasets import DataConfig
from .degrade import DegradeConfig, is_number


@dataclass(frozen=True)
class ModelConfig:
    """Which network to train.

    Attributes:
        kind: ``teacher`` or ``student`` (selects the registry).
        name: registry name (``nafnet``, ``edsr``; ``fast``, ``dsconv``, ``unet_lite``, ``unet``, ``dilated``).
        args: constructor arguments overriding the registry defaults.
    """

    kind: str = "teacher"
    name: str = "nafnet"
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with a linear warm-up and cosine decay.

    Attributes:
        lr: peak learning rate; ``min_lr`` is reached at the last step.
        warmup: linear warm-up steps from 0.
        weight_decay: AdamW decoupled weight decay.
        betas: AdamW betas.
        grad_clip: max global gradient norm (0 disables).
        ema_decay: decay of the weight EMA (0 disables; validation then uses raw weights).
    """

    lr: float = 1e-3
    min_lr: float = 1e-6
    warmup: int = 500
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.9)
    grad_clip: float = 1.0
    ema_decay: float = 0.999


@dataclass(frozen=True)
class LossConfig:
    """Weights of the reconstruction terms against the ground truth (0 = off).

    Attributes:
        l1, charbonnier, mse, psnr, psnr40, msssim, edge, fft: weights of the ``losses.LOSSES`` entries
            (``psnr``: each crop's log MSE, every crop alike; ``psnr40``: the same up to 40 dB).
        noharm: weight of ``losses.noharm_loss``, each crop's shortfall below its own input (it
            needs the degraded input, so it is not a ``LOSSES`` entry).
    """

    l1: float = 0.0
    charbonnier: float = 1.0
    mse: float = 0.0
    psnr: float = 0.0
    psnr40: float = 0.0
    msssim: float = 0.0
    edge: float = 0.0
    fft: float = 0.0
    noharm: float = 0.0

    def __post_init__(self) -> None:
        """Refuse a weight that is not a finite number ≥ 0 (one line naming it).

        Raises:
            ValueError: e.g. ``loss.noharm must be a number >= 0, not 'x'``.
        """
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not is_number(value) or value < 0:
                raise ValueError(f"loss.{f.name} must be a number >= 0, not {value!r}")

    def weights(self) -> dict[str, float]:
        """Non-zero weights of the ``LOSSES`` entries (pred against target) by name."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v and k != "noharm"}


@dataclass(frozen=True)
class DistillConfig:
    """Knowledge-distillation terms for a student (all weights 0 = no teacher).

    Attributes:
        teacher: path of a teacher checkpoint (``best.json``/``last.json`` or a
            ``teacher.json`` next to its safetensors).
        output: weight of the output KD term (student vs teacher output).
        output_loss: which ``losses.LOSSES`` entry the output term uses.
        feature: weight of feature KD (student stages through 1×1 adapters vs teacher stages).
        feature_pairs: ``student_stage:teacher_stage`` pairs for feature KD.
        perceptual: weight of the perceptual term: distance between student output
            and ground truth in the teacher's own encoder feature space.
        perceptual_stages: teacher encoder stages used by ``perceptual``.
        adversarial: weight of the PatchGAN generator term (0 = no discriminator).
        disc_lr: discriminator learning rate.
        gt_as_teacher: replace the teacher's output by the ground truth in the
            output term (a teacher-free control with the same loss plumbing).
        unpaired_fraction: extra samples per batch (as a fraction of the batch)
            drawn from ``DataConfig.unpaired`` that only the KD terms see.
    """

    teacher: str = ""
    output: float = 0.0
    output_loss: str = "charbonnier"
    feature: float = 0.0
    feature_pairs: tuple[str, ...] = ()
    perceptual: float = 0.0
    perceptual_stages: tuple[str, ...] = ("enc0", "enc1")
    adversarial: float = 0.0
    disc_lr: float = 2e-4
    gt_as_teacher: bool = False
    unpaired_fraction: float = 0.0

    def active(self) -> bool:
        """True when any term needs a teacher network."""
        needs = self.feature or self.perceptual or (self.output and not self.gt_as_teacher)
        return bool(needs)


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run.

    Attributes:
        run_dir: output folder (checkpoints, metrics.jsonl, curves.png).
        model, data, degrade, optim, loss, distill: the parts above.
        steps: total optimiser steps (the cosine schedule spans them).
        batch: global batch size (split across DDP ranks).
        seed: seeds weights, data sampling and degradations.
        threads: torch intra-op threads per process (0 = cores ÷ processes).
        val_every: validate (and maybe save ``best``) every this many steps.
        ckpt_every: save ``last`` every this many steps ...
        ckpt_minutes: ... or when this many minutes passed since the last save.
        log_every: append a metrics.jsonl line every this many steps.
        select: ``psnr`` or ``ssim``: the validation metric that picks ``best``.
        progress: show a tqdm bar.
        init: a checkpoint JSON (``best.json``, ``last.json`` or an exported ``teacher.json``) whose
            weights (EMA when present) start a new run of the same architecture: fine-tuning. The
            optimiser, schedule and step start afresh; ``--resume`` of the run ignores it.
        precision: ``auto`` (fp16 autocast + grad scaling on CUDA, fp32 on CPU),
            ``fp32``, or ``bf16`` (bfloat16 autocast with float32 weights, and
            channels-last tensors on CPU: about 1.4× faster on CPUs with AVX-512 BF16).
    """

    run_dir: str = "runs/teacher"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    degrade: DegradeConfig = field(default_factory=DegradeConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    steps: int = 1000
    batch: int = 8
    seed: int = 0
    threads: int = 0
    val_every: int = 500
    ckpt_every: int = 500
    ckpt_minutes: float = 8.0
    log_every: int = 10
    select: str = "psnr"
    progress: bool = True
    precision: str = "auto"
    init: str = ""


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Nested dataclass → plain JSON-able dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def _coerce(tp: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return config_from_dict(tp, value)
    origin = typing.get_origin(tp)
    if origin is tuple and isinstance(value, list):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v) for v in value)
        return tuple(_coerce(a, v) for a, v in zip(args, value))
    if origin in (typing.Union, types.UnionType):
        return value
    return value


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (nested) config dataclass from ``config_to_dict`` output.

    Missing keys take their defaults (older checkpoints); unknown keys are an error.

    Raises:
        ValueError: a key that ``cls`` does not have.
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {sorted(unknown)}")
    return cls(**{k: _coerce(hints[k], v) for k, v in data.items()})


def replace_path(cfg: Any, dotted: str, value: Any) -> Any:
    """Return ``cfg`` with the field at ``a.b.c`` replaced (frozen dataclasses)."""
    head, _, rest = dotted.partition(".")
    if not rest:
        return dataclasses.replace(cfg, **{head: value})
    return dataclasses.replace(cfg, **{head: replace_path(getattr(cfg, head), rest, value)})
