"""One place that turns ``(kind, name, args)`` into a network, and a checkpoint back into one.

Registries: ``teachers.TEACHERS`` and ``students.STUDENTS``. Every network has
``arch_args`` (its full constructor arguments), ``size_multiple``,
``receptive_radius``, ``in_channels`` and ``forward_features``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import CheckpointError, load_checkpoint, subdict
from .reparam import fold_reparam
from .teachers import TEACHERS

KINDS = ("teacher", "student")


class UnknownModelError(KeyError):
    """A registry name that does not exist (the message lists the valid names)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def registry(kind: str) -> dict[str, type[nn.Module]]:
    """The registry dict of ``kind`` (``teacher`` or ``student``)."""
    if kind == "teacher":
        return TEACHERS
    if kind == "student":
        from .students import STUDENTS

        return STUDENTS
    raise UnknownModelError(f"unknown model kind {kind!r}; choose from {KINDS}")


def build_model(kind: str, name: str, args: dict[str, Any] | None = None) -> nn.Module:
    """Instantiate a registered network.

    Raises:
        UnknownModelError: ``name`` is not in the ``kind`` registry.
        TypeError: ``args`` has an argument the constructor does not take.
    """
    reg = registry(kind)
    if name not in reg:
        raise UnknownModelError(f"unknown {kind} {name!r}; choose from {', '.join(reg)}")
    return reg[name](**(args or {}))


def arch_of(model: nn.Module, kind: str) -> dict[str, Any]:
    """The JSON description that rebuilds ``model``: kind, name and full arguments."""
    m = model.module if hasattr(model, "module") else model
    return {"kind": kind, "name": m.architecture, "args": dict(m.arch_args)}


def load_model(path: str | Path, use_ema: bool = True) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a network from a checkpoint JSON (or run folder) and load its weights.

    Args:
        path: ``best.json``, ``last.json``, a run folder, or an exported ``teacher.json``.
        use_ema: load the EMA weights when the checkpoint has them.

    Returns:
        ``(model in eval mode, checkpoint meta)``.

    Raises:
        CheckpointError: unreadable checkpoint or weights that do not fit the architecture.
    """
    tensors, meta = load_checkpoint(Path(path))
    arch = meta["arch"]
    model = build_model(arch["kind"], arch["name"], arch["args"])
    weights = subdict(tensors, "ema") if use_ema else {}
    if not weights:
        weights = subdict(tensors, "model")
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit {arch['name']}: {str(e)[:300]}") from e
    model.eval()
    return model, meta


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def gflops_1080p(model: nn.Module, probe: int = 256) -> float:
    """Forward GFLOP (2 × multiply-adds, as counted by ``torch.utils.flop_counter``) per 1920×1080 frame
    of the deployed network (re-parameterisable blocks folded, as the exporter does).

    The networks are fully convolutional, so the count on a ``probe``² input is
    scaled by the pixel ratio (padding to the size multiple is ignored).
    """
    from torch.utils.flop_counter import FlopCounterMode

    c = getattr(model, "in_channels", 3) + getattr(model, "condition", 0)
    deployed = fold_reparam(model).eval()  # what an exported model costs: training branches folded
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        deployed(torch.rand(1, c, probe, probe))
    return fc.get_total_flops() * (1920 * 1080) / (probe * probe) / 1e9
