"""The training loop: ``train(config) -> best checkpoint path``.

Run (single process)::

    kdsharp-train teacher --run-dir /root/.cache/kdsharp/runs/teacher --steps 20000
    kdsharp-train teacher --run-dir /root/.cache/kdsharp/runs/teacher --resume

Run (DDP, gloo on CPU, NCCL on GPU)::

    torchrun --nproc_per_node=2 -m kdsharp_train.cli teacher --threads 1 ...

Each step: draw a global batch (every rank draws the same one from the same
seeded generator and takes its own slice, so N processes see exactly the data of
one), forward, reconstruction + distillation losses, backward, clip, AdamW,
EMA update. Every ``val_every`` steps the EMA weights are scored on the fixed
validation set; the best by PSNR (or SSIM) is kept as ``best``. ``last`` is
saved every ``ckpt_every`` steps or ``ckpt_minutes`` minutes, atomically.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from kdsharp_train import atomic
from torch import nn
from tqdm import tqdm

from .checkpoint import (
    load_checkpoint,
    optimizer_from_flat,
    optimizer_to_flat,
    save_checkpoint,
    subdict,
)
from .conditions import DegradationRecord, with_case_conditions, with_conditions
from .config import TrainConfig, config_from_dict, config_to_dict
from .datasets import DatasetError, TrainSampler, load_val_set
from .degrade import seed_everything
from .losses import LOSSES, noharm_loss, psnr, ssim_value
from .models import arch_of, build_model, count_params, load_model


def rgb_to_luma(x: torch.Tensor) -> torch.Tensor:
    """``N×3×H×W`` RGB 0–1 → ``N×1×H×W`` BT.601 luma 0–1 (the contract's ``luma``)."""
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate at ``step``: linear warm-up, then cosine from ``lr`` to ``min_lr``."""
    o = cfg.optim
    if o.warmup and step < o.warmup:
        return o.lr * (step + 1) / o.warmup
    t = min(1.0, (step - o.warmup) / max(1, cfg.steps - o.warmup))
    return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1.0 + math.cos(math.pi * t))


class Trainable(nn.Module):
    """The network being trained plus its feature-KD adapters, as one DDP-wrappable module.

    ``forward(x)`` returns ``(output, student features, adapted features)``; the
    adapted features are the 1×1-conv projections named by teacher stage.
    """

    def __init__(self, net: nn.Module, adapters: nn.ModuleDict | None = None) -> None:
        super().__init__()
        self.net = net
        self.adapters = adapters if adapters is not None else nn.ModuleDict()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        out, feats = self.net.forward_features(x)
        adapted = {}
        for key, adapter in self.adapters.items():
            s_stage = key.split("__")[0]
            adapted[key] = adapter(feats[s_stage])
        return out, feats, adapted


BatchSource = Callable[
    [int, np.random.Generator], tuple[torch.Tensor, torch.Tensor, "torch.Tensor | None", "torch.Tensor | None"]
]


def batch_source(cfg: TrainConfig) -> BatchSource:
    """What draws the training batches: ``(degraded, sharp, teacher outputs or None, conditions or None)``.

    The ``bank`` layout reads a ``label_bank`` (which carries teacher outputs and, when
    built since issue 15, each crop's degradation conditions); the ``folder`` layout
    degrades photos through ``TrainSampler`` and records the conditions as it goes.
    """
    if cfg.data.layout == "bank":
        from .label_bank import LabelBank

        bank = LabelBank.load(cfg.data.train)
        p = None if cfg.data.bank_noisy_weight == 1.0 else bank.noisy_weights(cfg.data.bank_noisy_weight)
        return lambda n, rng: bank.sample(n, cfg.data.crop, rng, p)
    if cfg.data.bank_noisy_weight != 1.0:
        raise DatasetError(f"data.bank_noisy_weight applies to the bank layout, not {cfg.data.layout!r}")
    sampler = TrainSampler(cfg.data, cfg.degrade)

    def draw(n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, None, torch.Tensor | None]:
        records: list[DegradationRecord] = []
        x, y = sampler.sample(n, rng, records)
        return x, y, None, torch.tensor([r.vector() for r in records]) if len(records) == n else None

    return draw


def _dist_setup() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if world > 1 else 0
    return world, rank


@torch.no_grad()
def validate(net: nn.Module, val: list[tuple[str, torch.Tensor, torch.Tensor]], device: torch.device) -> dict[str, Any]:
    """Score ``net`` on the validation set.

    Returns:
        ``{"psnr": mean dB, "ssim": mean, "per": {degradation: mean PSNR}}``. For a
        1-channel network the scores are on luma.
    """
    was = net.training
    net.eval()
    luma = getattr(net, "in_channels", 3) == 1
    told = getattr(net, "condition", 0)
    ps, ss, per = [], [], {}
    for name, x, y in val:
        x, y = x.to(device), y.to(device)
        if luma:
            x, y = rgb_to_luma(x), rgb_to_luma(y)
        if told:  # a conditioned student is told the case's true degradation
            x = with_case_conditions(x, name)
        out = net(x).float().clamp(0, 1)
        p = psnr(out, y)
        ps.append(p)
        ss.append(ssim_value(out, y))
        per.setdefault(name, []).append(p)
    net.train(was)
    return {
        "psnr": float(np.mean(ps)),
        "ssim": float(np.mean(ss)),
        "per": {k: float(np.mean(v)) for k, v in per.items()},
    }


def plot_curves(run_dir: Path) -> None:
    """Write ``curves.png`` (training loss and validation PSNR against step) atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
    tr = [(r["step"], r["loss"]) for r in rows if r.get("type") == "train"]
    va = [(r["step"], r["val_psnr"]) for r in rows if r.get("type") == "val"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    if tr:
        a.plot(*zip(*tr), lw=0.8)
        if min(v for _, v in tr) > 0:  # the log-MSE losses (psnr, psnr40) are negative: a linear axis
            a.set_yscale("log")
    a.set_xlabel("step")
    a.set_ylabel("training loss")
    if va:
        b.plot(*zip(*va), marker="o", ms=3)
    b.set_xlabel("step")
    b.set_ylabel("validation PSNR (dB)")
    fig.tight_layout()
    with atomic.replacing(run_dir / "curves.png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def _ema_update(ema: nn.Module, net: nn.Module, decay: float, step: int) -> None:
    d = min(decay, (1.0 + step) / (10.0 + step))
    with torch.no_grad():
        for e, p in zip(ema.state_dict().values(), net.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(d).add_(p.detach(), alpha=1.0 - d)
            else:
                e.copy_(p)


def train(cfg: TrainConfig, resume: bool = False, stop_after: int | None = None) -> Path:
    """Train the configured network.

    Args:
        cfg: the run. With ``resume`` and an existing ``<run_dir>/last.json`` the
            stored config is used instead, except ``steps``, ``progress``,
            ``threads``, ``val_every``, ``ckpt_every``, ``ckpt_minutes`` and ``precision`` which
            come from ``cfg`` (so a finished run can be extended).
        resume: continue from ``last.json`` exactly (weights, optimiser, EMA,
            RNG, step); starts fresh when there is none.
        stop_after: stop (after saving ``last``) once this many steps ran in this
            call; used to simulate an interruption in tests.

    Returns:
        The path of ``best.json`` (or ``last.json`` when no validation ran).
    """
    world, rank = _dist_setup()
    run_dir = Path(cfg.run_dir)
    state: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None
    if resume and (run_dir / "last.json").exists():
        state = load_checkpoint(run_dir / "last.json")
        stored = config_from_dict(TrainConfig, state[1]["config"])
        runtime = ("steps", "progress", "threads", "val_every", "ckpt_every", "ckpt_minutes", "run_dir", "precision")
        keep = {k: getattr(cfg, k) for k in runtime}
        cfg = dataclasses.replace(stored, **keep)
    threads = cfg.threads or max(1, (os.cpu_count() or 1) // world)
    torch.set_num_threads(threads)
    device = torch.device("cuda", rank % torch.cuda.device_count()) if torch.cuda.is_available() else torch.device("cpu")
    if cfg.precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, got {cfg.precision!r}")
    amp = device.type == "cuda" and cfg.precision == "auto"  # fp16 autocast + grad scaling
    bf16 = cfg.precision == "bf16"
    autocast_dtype = torch.bfloat16 if bf16 else torch.float16
    # oneDNN's bf16 convolutions are fastest on channels-last tensors.
    memory_format = torch.channels_last if bf16 and device.type == "cpu" else torch.contiguous_format
    seed_everything(cfg.seed)
    if cfg.batch % world:
        raise ValueError(f"batch {cfg.batch} is not divisible by the {world} processes")

    net = build_model(cfg.model.kind, cfg.model.name, cfg.model.args).to(device, memory_format=memory_format)
    if state is None and cfg.init:
        start, _ = load_model(cfg.init)
        if arch_of(start, cfg.model.kind) != arch_of(net, cfg.model.kind):
            raise ValueError(f"init {cfg.init}: its architecture {arch_of(start, cfg.model.kind)} is not the run's")
        net.load_state_dict(start.state_dict())
    luma = getattr(net, "in_channels", 3) == 1
    told = getattr(net, "condition", 0)
    distiller = None
    adapters = None
    if cfg.distill.active() or cfg.distill.adversarial or cfg.distill.output:
        from .distill import Distiller

        distiller = Distiller(cfg, net, device, labels_given=cfg.data.layout == "bank")
        adapters = distiller.adapters
    trainable = Trainable(net, adapters).to(device)
    ema = copy.deepcopy(net).eval() if cfg.optim.ema_decay > 0 else None
    opt = torch.optim.AdamW(
        trainable.parameters(), lr=cfg.optim.lr, betas=tuple(cfg.optim.betas), weight_decay=cfg.optim.weight_decay
    )
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    rng = np.random.default_rng(cfg.seed)
    step, best, best_step, elapsed, cpu = 0, -math.inf, -1, 0.0, 0.0
    if state is not None:
        tensors, meta = state
        trainable.net.load_state_dict(subdict(tensors, "model"))
        trainable.adapters.load_state_dict(subdict(tensors, "adapter"))
        if ema is not None:
            ema.load_state_dict(subdict(tensors, "ema"))
        optimizer_from_flat(opt, tensors, meta["opt_groups"])
        if distiller is not None:
            distiller.load_state(tensors, meta)
        if meta.get("scaler"):
            scaler.load_state_dict(meta["scaler"])
        rng.bit_generator.state = meta["np_rng"]
        torch.set_rng_state(tensors["rng.torch"])
        step, best, best_step = meta["step"], meta["best"], meta["best_step"]
        elapsed = meta.get("elapsed_s", 0.0)
        cpu = meta.get("cpu_s", 0.0)

    draw = batch_source(cfg)
    extra = None
    if distiller is not None and cfg.distill.unpaired_fraction > 0:
        if not cfg.data.unpaired:
            raise ValueError("distill.unpaired_fraction > 0 needs data.unpaired (a folder of images)")
        extra = TrainSampler(cfg.data, cfg.degrade, root=cfg.data.unpaired)
    val = load_val_set(cfg.data, seed=cfg.seed) if rank == 0 else []
    model = trainable
    if world > 1:
        model = nn.parallel.DistributedDataParallel(trainable, device_ids=[device.index] if device.type == "cuda" else None)

    def save(name: str, metrics: dict[str, Any] | None = None) -> Path:
        tensors = {f"model.{k}": v for k, v in trainable.net.state_dict().items()}
        tensors.update({f"adapter.{k}": v for k, v in trainable.adapters.state_dict().items()})
        if ema is not None:
            tensors.update({f"ema.{k}": v for k, v in ema.state_dict().items()})
        meta: dict[str, Any] = {
            "format": "kdsharp-train-checkpoint/1",
            "config": config_to_dict(cfg),
            "arch": arch_of(net, cfg.model.kind),
            "size_multiple": int(net.size_multiple),
            "receptive_radius": int(net.receptive_radius),
            "step": step,
            "best": best,
            "best_step": best_step,
            "elapsed_s": elapsed,
            "cpu_s": cpu,
            "params": count_params(net),
            "metrics": metrics or {},
        }
        if name == "last":
            ot, groups = optimizer_to_flat(opt)
            tensors.update(ot)
            tensors["rng.torch"] = torch.get_rng_state()
            meta["opt_groups"] = groups
            meta["np_rng"] = rng.bit_generator.state
            meta["scaler"] = scaler.state_dict() if amp else {}
            if distiller is not None:
                dt, dm = distiller.state()
                tensors.update(dt)
                meta.update(dm)
        return save_checkpoint(run_dir, name, tensors, meta)

    log_path = run_dir / "metrics.jsonl"
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(config_to_dict(cfg), indent=1))

    def log(row: dict[str, Any]) -> None:
        if rank == 0:
            with open(log_path, "a") as f:
                f.write(json.dumps(row) + "\n")

    per = cfg.batch // world
    n_extra = int(round(cfg.batch * cfg.distill.unpaired_fraction)) if extra is not None else 0
    weights = cfg.loss.weights()
    start_step = step
    last_save = time.monotonic()
    bar = tqdm(
        total=cfg.steps, initial=step, disable=not cfg.progress or rank != 0, dynamic_ncols=True,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
    )
    t_log, n_log, loss_acc = time.monotonic(), 0, 0.0
    trainable.train()
    while step < cfg.steps:
        t0, c0 = time.monotonic(), time.process_time()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        x, y, soft, conditions = draw(cfg.batch, rng)
        xu = extra.sample(n_extra, rng)[0] if n_extra else None
        x, y = x[rank * per : (rank + 1) * per].to(device), y[rank * per : (rank + 1) * per].to(device)
        if soft is not None:
            soft = soft[rank * per : (rank + 1) * per].to(device)
        if xu is not None:
            ku = n_extra // world if n_extra >= world else n_extra
            xu = xu[rank * ku : (rank + 1) * ku].to(device) if n_extra >= world else xu.to(device)
        xin_rgb = x if xu is None else torch.cat([x, xu])
        xin = rgb_to_luma(xin_rgb) if luma else xin_rgb
        if told:
            if conditions is None or xu is not None:
                raise ValueError("a conditioned student needs each crop's degradation (folder layout or a bank "
                                 "built since issue 15) and no unpaired inputs")
            xin = with_conditions(xin, conditions[rank * per : (rank + 1) * per].to(device))
        xin = xin.contiguous(memory_format=memory_format)
        yt = rgb_to_luma(y) if luma else y
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=amp or bf16):
            out, feats, adapted = model(xin)
            pred = out[: x.shape[0]]
            terms = {k: w * LOSSES[k](pred.float(), yt) for k, w in weights.items()}
            if cfg.loss.noharm:
                given = xin[: x.shape[0], : yt.shape[1]].float()
                terms["noharm"] = cfg.loss.noharm * noharm_loss(pred.float(), yt, given)
            if distiller is not None:
                terms.update(distiller.generator_terms(xin_rgb, out, adapted, yt, x.shape[0], soft))
            loss = sum(terms.values())
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if cfg.optim.grad_clip:
            scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(trainable.parameters(), cfg.optim.grad_clip)
        scaler.step(opt)
        scaler.update()
        if distiller is not None and cfg.distill.adversarial:
            terms["disc"] = distiller.discriminator_step(pred.detach(), yt)
        if ema is not None:
            _ema_update(ema, net, cfg.optim.ema_decay, step)
        step += 1
        elapsed += time.monotonic() - t0
        cpu += time.process_time() - c0  # all threads of this process: the CPU-hours of the run
        loss_v = float(loss.detach())
        if not math.isfinite(loss_v):
            raise FloatingPointError(f"loss became {loss_v} at step {step}")
        loss_acc += loss_v
        n_log += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss_v:.4f}", lr=f"{lr_at(step - 1, cfg):.2e}", refresh=False)
        if step % cfg.log_every == 0 or step == cfg.steps:
            now = time.monotonic()
            log({
                "type": "train", "step": step, "loss": loss_acc / n_log,
                "terms": {k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for k, v in terms.items()}, "lr": lr_at(step - 1, cfg),
                "it_s": n_log / max(now - t_log, 1e-9), "elapsed_s": elapsed, "cpu_s": cpu,
            })
            t_log, n_log, loss_acc = now, 0, 0.0
        if rank == 0 and (step % cfg.val_every == 0 or step == cfg.steps) and val:
            scored = ema if ema is not None else net
            m = validate(scored, val, device)
            metric = m[cfg.select]
            log({"type": "val", "step": step, "val_psnr": m["psnr"], "val_ssim": m["ssim"], "per": m["per"]})
            if metric > best:
                best, best_step = metric, step
                save("best", m)
            plot_curves(run_dir)
            tqdm.write(f"step {step}: val PSNR {m['psnr']:.3f} dB SSIM {m['ssim']:.4f} (best {cfg.select} {best:.4f} @ {best_step})", file=sys.stderr)
        stopping = stop_after is not None and step - start_step >= stop_after
        due = step % cfg.ckpt_every == 0 or time.monotonic() - last_save > cfg.ckpt_minutes * 60
        if rank == 0 and (due or stopping or step == cfg.steps):
            save("last")
            last_save = time.monotonic()
        if stopping:
            break
    bar.close()
    if world > 1:
        dist.barrier()
    return run_dir / ("best.json" if (run_dir / "best.json").exists() else "last.json")
