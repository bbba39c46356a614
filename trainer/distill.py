"""Distillation terms: output KD, feature KD, perceptual loss in the teacher's encoder space, PatchGAN.

The ``Distiller`` owns the frozen teacher, the 1×1 feature adapters (trained
with the student, so the training loop puts them in the optimiser), and the
optional discriminator with its own optimiser. ``generator_terms`` returns the
weighted KD terms of one batch; every weight comes from ``DistillConfig``.

Inputs are RGB ``N×3×H×W`` float32 in 0–1 for the teacher; a luma student's
targets are compared in luma (BT.601). The batch may carry extra unpaired inputs
after the first ``n_paired`` rows: only the teacher labels those, so only the
output and feature terms see them.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import optimizer_from_flat, optimizer_to_flat, subdict
from .config import TrainConfig
from .losses import LOSSES
from .models import load_model


class DistillError(ValueError):
    """Inconsistent distillation settings (no teacher, unknown stage, ...)."""


class PatchDiscriminator(nn.Module):
    """PatchGAN: strided 4×4 convs with LeakyReLU, one logit per ~22×22 patch.

    Args:
        in_channels: 3 (RGB) or 1 (luma).
        width: channels of the first layer (doubled twice).
    """

    def __init__(self, in_channels: int = 3, width: int = 32) -> None:
        super().__init__()
        c = width
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, c, 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c, 2 * c, 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * c, 4 * c, 4, 1, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(4 * c, 1, 4, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``N×C×H×W`` in 0–1 → ``N×1×h×w`` logits."""
        return self.net(x * 2.0 - 1.0)


def _luma(x: torch.Tensor) -> torch.Tensor:
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


class Distiller:
    """Teacher-side state of a distillation run.

    Args:
        cfg: the run config (``cfg.distill`` holds the weights).
        student: the student network (for its stage channels and colour space).
        device: where the teacher runs.
        labels_given: the batches carry the teacher's outputs (a ``label_bank``):
            the output term uses them and no teacher network is loaded.

    Raises:
        DistillError: a teacher term is on but no teacher was given, a feature
            pair names a stage that does not exist, or a term that needs the
            live teacher (feature, perceptual, unpaired inputs) is on with
            ``labels_given``.
    """

    def __init__(self, cfg: TrainConfig, student: nn.Module, device: torch.device, labels_given: bool = False) -> None:
        self.cfg = cfg.distill
        self.luma = getattr(student, "in_channels", 3) == 1
        self.teacher: nn.Module | None = None
        if labels_given:
            live = [n for n in ("feature", "perceptual", "unpaired_fraction") if getattr(self.cfg, n)]
            if live:
                raise DistillError(
                    f"distill.{', distill.'.join(live)} need the live teacher; a label bank only carries its outputs"
                )
        elif self.cfg.active():
            if not self.cfg.teacher:
                raise DistillError("a KD term is on but distill.teacher (a teacher checkpoint) is empty")
            self.teacher, _ = load_model(self.cfg.teacher)
            self.teacher.to(device).eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)
        self.adapters = nn.ModuleDict()
        if self.cfg.feature:
            if not self.cfg.feature_pairs:
                raise DistillError("distill.feature > 0 needs distill.feature_pairs like 'body:enc2'")
            assert self.teacher is not None
            for pair in self.cfg.feature_pairs:
                s, _, t = pair.partition(":")
                if s not in student.stage_channels:
                    raise DistillError(f"student has no stage {s!r}; stages: {list(student.stage_channels)}")
                if t not in self.teacher.stage_channels:
                    raise DistillError(f"teacher has no stage {t!r}; stages: {list(self.teacher.stage_channels)}")
                self.adapters[f"{s}__{t}"] = nn.Conv2d(student.stage_channels[s], self.teacher.stage_channels[t], 1)
        if self.cfg.perceptual and self.teacher is not None:
            missing = [s for s in self.cfg.perceptual_stages if s not in self.teacher.stage_channels]
            if missing:
                raise DistillError(f"teacher has no perceptual stages {missing}")
        self.disc: nn.Module | None = None
        self.disc_opt: torch.optim.Optimizer | None = None
        if self.cfg.adversarial:
            self.disc = PatchDiscriminator(1 if self.luma else 3).to(device)
            self.disc_opt = torch.optim.Adam(self.disc.parameters(), lr=self.cfg.disc_lr, betas=(0.5, 0.999))
            if torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1:
                self.disc_ddp: nn.Module = nn.parallel.DistributedDataParallel(self.disc)
            else:
                self.disc_ddp = self.disc

    def _to_space(self, rgb: torch.Tensor) -> torch.Tensor:
        return _luma(rgb) if self.luma else rgb

    def _to_rgb(self, x: torch.Tensor) -> torch.Tensor:
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    def generator_terms(
        self,
        x_rgb: torch.Tensor,
        out: torch.Tensor,
        adapted: dict[str, torch.Tensor],
        target: torch.Tensor,
        n_paired: int,
        teacher_out: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Weighted KD terms of one batch.

        Args:
            x_rgb: the degraded inputs in RGB, ``N×3×H×W`` (paired rows first).
            out: the student's output, ``N×C×H×W`` in its own colour space.
            adapted: student features through the adapters, keyed ``student__teacher``.
            target: ground truth of the paired rows, ``n_paired×C×H×W``.
            n_paired: number of rows with ground truth.
            teacher_out: the teacher's RGB outputs of these inputs when the batch
                came from a label bank (then the teacher is not run).

        Returns:
            ``{"kd_output": ..., "kd_feature": ..., "kd_perceptual": ..., "adv_g": ...}``
            (only the enabled ones), each already multiplied by its weight.
        """
        c = self.cfg
        terms: dict[str, torch.Tensor] = {}
        t_out, t_feats = teacher_out, {}
        if t_out is None and self.teacher is not None and ((c.output and not c.gt_as_teacher) or c.feature):
            with torch.no_grad():
                t_out, t_feats = self.teacher.forward_features(x_rgb)
        if c.output:
            if c.gt_as_teacher:
                terms["kd_output"] = c.output * LOSSES[c.output_loss](out[:n_paired].float(), target)
            else:
                if t_out is None:
                    raise DistillError("the output KD term has neither a teacher nor bank labels")
                soft = self._to_space(t_out.clamp(0, 1))
                terms["kd_output"] = c.output * LOSSES[c.output_loss](out.float(), soft)
        if c.feature:
            parts = []
            for key, a in adapted.items():
                t = t_feats[key.split("__")[1]]
                if a.shape[-2:] != t.shape[-2:]:
                    a = F.interpolate(a, size=t.shape[-2:], mode="bilinear", align_corners=False)
                parts.append(F.l1_loss(a.float(), t))
            terms["kd_feature"] = c.feature * torch.stack(parts).mean()
        if c.perceptual:
            if self.teacher is None:
                raise DistillError("distill.perceptual needs a teacher")
            pf = self.teacher.encode(self._to_rgb(out[:n_paired].float()))
            with torch.no_grad():
                gf = self.teacher.encode(self._to_rgb(target))
            parts = [F.l1_loss(pf[s], gf[s]) for s in c.perceptual_stages]
            terms["kd_perceptual"] = c.perceptual * torch.stack(parts).mean()
        if c.adversarial:
            assert self.disc is not None
            for p in self.disc.parameters():
                p.requires_grad_(False)
            logits = self.disc(out[:n_paired].float())
            for p in self.disc.parameters():
                p.requires_grad_(True)
            terms["adv_g"] = c.adversarial * (logits - 1.0).pow(2).mean()
        return terms

    def discriminator_step(self, fake: torch.Tensor, real: torch.Tensor) -> float:
        """One LSGAN discriminator update on detached student outputs vs ground truth; returns its loss."""
        assert self.disc is not None and self.disc_opt is not None
        loss = 0.5 * ((self.disc_ddp(real) - 1.0).pow(2).mean() + self.disc_ddp(fake.detach()).pow(2).mean())
        self.disc_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.disc_opt.step()
        return float(loss.detach())

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors (``disc.*``, ``disc_opt.*``) and JSON meta to checkpoint."""
        if self.disc is None or self.disc_opt is None:
            return {}, {}
        tensors = {f"disc.{k}": v for k, v in self.disc.state_dict().items()}
        ot, groups = optimizer_to_flat(self.disc_opt, "disc_opt")
        tensors.update(ot)
        return tensors, {"disc_opt_groups": groups}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Restore what ``state`` saved."""
        if self.disc is None or self.disc_opt is None:
            return
        self.disc.load_state_dict(subdict(tensors, "disc"))
        optimizer_from_flat(self.disc_opt, tensors, meta["disc_opt_groups"], "disc_opt")
