"""What a sample went through, as four numbers: the extra input of a conditioned student.

Issue 15's diagnostic trains the real-time student twice on the same budget: blind,
and told the true degradation as constant input planes. If the told student clears
the tuned unsharp mask by a wide margin, the blind one's gap is in identifying the
degradation; if it does not, the gap is capacity.

The four conditions (``CONDITION_NAMES``), each scaled to about 0–1.5:

* ``blur``: the equivalent Gaussian σ of every blur applied, combined as variances
  (Gaussian σ², anisotropic (σx² + σy²)/2, disk radius r²/4, motion length L²/24), ÷ 2;
* ``noise``: the noise σ at mid-grey (read σ² + shot gain · ½, or ½/photons + read σ²), × 20;
* ``compression``: the worst codec loss, JPEG (100 − quality)/100 or video CRF/51;
* ``scale``: log₂ of the product of the down-up factors (1 = halved and enlarged again).

The training pipeline records them as it draws (``degrade.random_degrade(record=...)``)
and label banks store them; the evaluation suite's cases give theirs from their fixed
steps (``suite_conditions``), so both sides describe a degradation the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: The condition planes, in channel order.
CONDITION_NAMES = ("blur", "noise", "compression", "scale")


@dataclass
class DegradationRecord:
    """Accumulates the ops applied to one sample (see the module docstring for the units)."""

    blur_var: float = 0.0
    noise_var: float = 0.0
    compression: float = 0.0
    scale: float = 1.0

    def add(self, op: str, *values: float) -> None:
        """Record one op: ``gauss σ``, ``aniso σx σy``, ``defocus r``, ``motion L``, ``resize factor``,
        ``noise read shot``, ``poisson photons read``, ``jpeg quality``, ``video crf``.

        Raises:
            ValueError: an op name not listed here.
        """
        if op == "gauss":
            self.blur_var += values[0] ** 2
        elif op == "aniso":
            self.blur_var += (values[0] ** 2 + values[1] ** 2) / 2.0
        elif op == "defocus":
            self.blur_var += values[0] ** 2 / 4.0
        elif op == "motion":
            self.blur_var += values[0] ** 2 / 24.0
        elif op == "resize":
            self.scale *= max(1.0, values[0])
        elif op == "noise":
            self.noise_var += values[0] ** 2 + 0.5 * values[1]
        elif op == "poisson":
            self.noise_var += 0.5 / values[0] + values[1] ** 2
        elif op == "jpeg":
            self.compression = max(self.compression, (100.0 - values[0]) / 100.0)
        elif op == "video":
            self.compression = max(self.compression, values[0] / 51.0)
        else:
            raise ValueError(f"no degradation op {op!r} to record")

    def vector(self) -> tuple[float, float, float, float]:
        """The four conditions, in ``CONDITION_NAMES`` order."""
        return (math.sqrt(self.blur_var) / 2.0, math.sqrt(self.noise_var) * 20.0, self.compression, math.log2(self.scale))


def suite_conditions(name: str) -> tuple[float, float, float, float]:
    """The conditions of the evaluation suite's case ``name`` (from its fixed steps).

    Raises:
        KeyError: an unknown case.
    """
    from .suite import EVAL_SUITE

    if name not in EVAL_SUITE:
        raise KeyError(f"unknown degradation {name!r}; choose from {', '.join(EVAL_SUITE)}")
    rec = DegradationRecord()
    for step in EVAL_SUITE[name]:
        if step.op in ("gauss", "defocus", "motion"):
            rec.add(step.op, step.value)
        elif step.op == "aniso":
            rec.add("aniso", step.value, step.extra)
        elif step.op in ("down", "resize") and step.value:
            rec.add("resize", step.value)
        elif step.op in ("noise", "poisson"):
            rec.add(step.op, step.value, step.extra)
        elif step.op in ("jpeg", "sjpeg"):
            rec.add("jpeg", step.value)
        elif step.op in ("h264", "hevc"):
            rec.add("video", step.value)
    return rec.vector()


def with_conditions(x: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
    """``N×C×H×W`` images and ``N×4`` conditions → ``N×(C+4)×H×W``, each condition a constant plane."""
    n, _, h, w = x.shape
    planes = conditions.to(x.dtype).reshape(n, -1, 1, 1).expand(n, conditions.shape[-1], h, w)
    return torch.cat([x, planes], 1)


def with_case_conditions(x: torch.Tensor, case: str) -> torch.Tensor:
    """``with_conditions`` for a batch all degraded by the suite's case ``case`` (its fixed conditions)."""
    return with_conditions(x, torch.tensor([suite_conditions(case)] * x.shape[0], device=x.device))
